using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionMesh.Mesh;
using SessionMesh.Security;
using SessionMesh.Store;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the mesh in a service collection, with or without ASP.NET Core.</summary>
public static class SessionMeshServiceCollectionExtensions
{
    /// <summary>
    /// Registers the mesh's services: one per resource over a shared <see cref="MeshRuntime"/>, the command stream,
    /// the key cache and authenticator, the lease table, and maintenance, with in-process signals, a single-server leader and the system clock.
    /// Everything is added with <c>TryAdd*</c>, so a registration made before (a fake <see cref="TimeProvider"/>, a
    /// leader shared by replicas) wins. <see cref="MeshOptions"/> keep their defaults unless the host binds or
    /// configures them. No store is registered: follow with a store's extension, e.g. <c>.UseSqlite(path)</c>.
    /// </summary>
    public static ISessionMeshBuilder AddSessionMesh(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<MeshOptions>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MeshOptions>, MeshOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IMeshSignals, InProcessMeshSignals>();
        services.TryAddSingleton<ILeaseLeader, SingleServerLeader>();
        services.TryAddSingleton(sp => new KeyCache(sp.GetService<IMeshStore>() ?? throw new InvalidOperationException(NoStoreMessage)));
        // With replicas sharing the store, budgets are charged there (see SessionService), not in each replica's table.
        services.TryAddSingleton(sp => new LeaseTable(
            sp.GetService<IMeshStore>() ?? throw new InvalidOperationException(NoStoreMessage),
            budgetsInStore: sp.GetRequiredService<IMeshSignals>() is IReplicaSignals));
        services.TryAddSingleton(sp => new MeshRuntime(
            sp.GetService<IMeshStore>() ?? throw new InvalidOperationException(NoStoreMessage),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IOptions<MeshOptions>>().Value,
            sp.GetRequiredService<IMeshSignals>(), sp.GetRequiredService<KeyCache>(), sp.GetRequiredService<LeaseTable>(),
            sp.GetService<ILoggerFactory>()));
        services.TryAddSingleton<KeyAuthenticator>();
        services.TryAddSingleton<SessionService>();
        services.TryAddSingleton<AgentService>();
        services.TryAddSingleton<RegistryService>();
        services.TryAddSingleton<CardService>();
        services.TryAddSingleton<CommandService>();
        services.TryAddSingleton<CommandStream>();
        services.TryAddSingleton<KeyService>();
        services.TryAddSingleton<EventService>();
        services.TryAddSingleton<AuditService>();
        services.TryAddSingleton<LogService>();
        services.TryAddSingleton<LockService>();
        services.TryAddSingleton<MeshMaintenance>();
        AddWebhooks(services);
        return new SessionMeshBuilder(services);
    }

    /// <summary>What resolving the mesh without a store says, rather than the container's generic "unable to resolve".</summary>
    internal const string NoStoreMessage =
        "The session mesh has no store: register one after AddSessionMesh(), e.g. services.AddSessionMesh().UseSqlite(path).";

    /// <summary>
    /// Webhooks: the service, the dispatcher (which a host runs, e.g. as a hosted service) and the HTTP client deliveries go
    /// through: no redirects, no cookies, connections only to allowed addresses (<see cref="WebhookConnections"/>), no
    /// request logging (a URL may carry a token), the timeout set per attempt.
    /// </summary>
    private static void AddWebhooks(IServiceCollection services)
    {
        services.AddOptions<WebhookOptions>();
        services.TryAddSingleton(sp => new WebhookHosts(sp.GetRequiredService<IOptions<WebhookOptions>>().Value));
        services.TryAddSingleton<WebhookSender>();
        services.TryAddSingleton<WebhookService>();
        services.TryAddSingleton<WebhookDispatcher>();
        services.AddHttpClient(WebhookSender.ClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(sp => WebhookConnections.CreateHandler(sp.GetRequiredService<WebhookHosts>()))
            .RemoveAllLoggers();
    }
}
