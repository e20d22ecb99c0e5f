using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using SessionMesh.Mesh;
using SessionMesh.Store;
using SessionMesh.Store.Postgres;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Plugs the PostgreSQL store into <c>services.AddSessionMesh()</c>.</summary>
public static class PostgresMeshBuilderExtensions
{
    /// <summary>
    /// Uses one PostgreSQL database as the mesh's store, shared with every other replica given the same database:
    /// signals cross replicas over LISTEN/NOTIFY (<see cref="PostgresMeshSignals"/>), one replica at a time runs expiry
    /// (<see cref="PostgresLeaseLeader"/>), and time is the database's (<see cref="PostgresClock"/>) unless the host
    /// registered a clock of its own before <c>AddSessionMesh()</c>.
    /// </summary>
    /// <param name="builder">The builder <c>AddSessionMesh()</c> returned.</param>
    /// <param name="connectionString">An Npgsql connection string (<c>Host=...;Database=...;Username=...</c>).</param>
    public static ISessionMeshBuilder UsePostgres(this ISessionMeshBuilder builder, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var services = builder.Services;
        services.TryAddSingleton(sp => new PostgresMeshStore(connectionString, sp.GetService<ILoggerFactory>()?.CreateLogger<PostgresMeshStore>()));
        services.TryAddSingleton<IMeshStore>(sp => sp.GetRequiredService<PostgresMeshStore>());
        services.TryAddSingleton<PostgresClock>();
        // AddSessionMesh() registered the single-server defaults; replicas need these instead.
        services.Replace(ServiceDescriptor.Singleton<IMeshSignals>(sp => new PostgresMeshSignals(
            sp.GetRequiredService<PostgresMeshStore>(), sp.GetService<ILoggerFactory>()?.CreateLogger<PostgresMeshSignals>())));
        services.Replace(ServiceDescriptor.Singleton<ILeaseLeader>(sp => new PostgresLeaseLeader(
            sp.GetRequiredService<PostgresMeshStore>(), sp.GetRequiredService<PostgresClock>(), sp.GetService<ILoggerFactory>()?.CreateLogger<PostgresLeaseLeader>())));
        if (services.LastOrDefault(s => s.ServiceType == typeof(TimeProvider)) is { ImplementationInstance: var clock } && ReferenceEquals(clock, TimeProvider.System))
        {
            services.Replace(ServiceDescriptor.Singleton<TimeProvider>(sp => sp.GetRequiredService<PostgresClock>()));
        }
        return builder;
    }
}
