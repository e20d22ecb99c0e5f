using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionMesh.Server.Hosting;
using SessionMesh.Server.Sandbox;

namespace SessionMesh.Server;

/// <summary>Builds and runs the mesh server; the entry point of <c>session-mesh serve</c> and of <see cref="LocalMeshServer"/> (tests, bench).</summary>
public static class ServerHost
{
    /// <summary>The path every API endpoint sits under.</summary>
    public const string ApiPrefix = "/api/session-mesh";

    /// <summary>What <see cref="Build"/> throws when its caller gave no store.</summary>
    public const string NoStoreMessage =
        "The server has no store: set ServeSettings.UseStore, e.g. (mesh, options) => mesh.UseSqlite(SqliteStoreSetting.ToDataSource(options.Store, options.DataDir)), as session-mesh serve does.";

    /// <summary>Builds, starts and runs the server until shutdown; returns the process exit code.</summary>
    public static async Task<int> RunAsync(ServeSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        WebApplication app;
        try
        {
            app = Build(settings);
        }
        catch (Exception ex) when (ex is OptionsValidationException or InvalidOperationException or ArgumentException)
        {
            // A bad setting, no store, or a store in use (the SQLite store's StoreLockedException is an InvalidOperationException).
            await Console.Error.WriteLineAsync($"session-mesh: {ex.Message}");
            return 1;
        }
        await using (app)
        {
            StartedServer started;
            try
            {
                started = await StartAsync(app, cancellationToken);
            }
            catch (Exception ex) when (ex is OptionsValidationException or IOException or InvalidOperationException or UriFormatException)
            {
                // A port in use, a setting out of range, a data directory in use: one line, not a stack trace.
                await Console.Error.WriteLineAsync($"session-mesh: {ex.Message}");
                return 1;
            }
            await Console.Out.WriteLineAsync($"session-mesh listening on {string.Join(", ", started.Addresses)}");
            if (app.Services.GetService<SandboxEnvironment>() is { } sandbox)
            {
                await Console.Out.WriteLineAsync($"Sandbox store (a throwaway store, deleted at exit): {sandbox.Directory}");
                await Console.Out.WriteLineAsync($"Sandbox faults: {app.Services.GetRequiredService<FaultInjector>().Current} (read or change them at {SandboxEndpoints.Prefix}/faults)");
            }
            if (started.GeneratedRootKey is not null)
            {
                await Console.Out.WriteLineAsync($"Root key (shown once; also written to {started.RootKeyPath}):");
                await Console.Out.WriteLineAsync(started.GeneratedRootKey);
                await Console.Out.WriteLineAsync($"  export SESSION_API_KEY={started.GeneratedRootKey}");
            }
            await Console.Out.FlushAsync(cancellationToken);
            await app.WaitForShutdownAsync(cancellationToken);
        }
        return 0;
    }

    /// <summary>
    /// Builds the application and opens its store, without starting it (<see cref="StartAsync"/> wires the request
    /// pipeline and starts it); <paramref name="configure"/> lets tests replace services.
    /// In sandbox mode the app owns a throwaway data directory, deleted when the app is disposed.
    /// The store comes from <see cref="ServeSettings.UseStore"/> (or <paramref name="configure"/>); with none, this
    /// throws <see cref="InvalidOperationException"/> saying so.
    /// </summary>
    public static WebApplication Build(ServeSettings settings, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        // Checks --sandbox and --faults first, so a bad spec leaves nothing behind.
        var sandbox = SandboxEnvironment.Create(settings);
        try
        {
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [.. settings.ConfigurationArgs] });
            // The host reads every environment variable unprefixed (so Mesh__X would set Mesh:X); the mesh is
            // configured only by SESSION_MESH_* variables, so a stray variable in a container changes nothing.
            foreach (var unprefixed in builder.Configuration.Sources.OfType<Microsoft.Extensions.Configuration.EnvironmentVariables.EnvironmentVariablesConfigurationSource>()
                .Where(source => string.IsNullOrEmpty(source.Prefix)).ToList())
            {
                builder.Configuration.Sources.Remove(unprefixed);
            }
            builder.Configuration.AddEnvironmentVariables("SESSION_MESH_");
            // The command line wins over the environment, as it does for every other setting.
            builder.Configuration.AddCommandLine([.. settings.ConfigurationArgs]);
            builder.Configuration.AddInMemoryCollection(CommandLineOverrides(settings, sandbox));
            builder.AddMeshServer(settings, sandbox);
            configure?.Invoke(builder);
            if (!builder.Services.Any(service => service.ServiceType == typeof(Store.IMeshStore)))
            {
                throw new InvalidOperationException(NoStoreMessage);
            }
            var app = builder.Build();
            // Resolved before the store, so the container disposes (deletes) it after the store is closed.
            _ = app.Services.GetService<SandboxEnvironment>();
            // Open the store now, so a bad --store fails here with its message rather than mid-start.
            _ = app.Services.GetRequiredService<Store.IMeshStore>();
            return app;
        }
        catch
        {
            sandbox?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs the store's start-up work (migrations, lease extension, root key) on one thread while this one wires the
    /// request pipeline and builds the endpoints (the MCP tools' schemas, the metrics exporter, the request delegates),
    /// then starts listening.
    /// </summary>
    /// <remarks>
    /// The two share no state. At 100,000 sessions the store's work takes ~1.2 s and the wiring ~0.5 s; run one after
    /// the other, a restart took their sum (docs/benchmarks.md, sixteenth run).
    /// </remarks>
    public static async Task<StartedServer> StartAsync(WebApplication app, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(app);
        var bootstrap = app.Services.GetRequiredService<MeshBootstrap>();
        var storeWork = Task.Run(() => bootstrap.RunAsync(cancellationToken), cancellationToken);
        try
        {
            app.UseMeshServer();
            BuildEndpoints(app);
        }
        catch
        {
            // The store's work finishes before the caller disposes the app (and the store) on this failure.
            await storeWork.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw;
        }
        await storeWork;
        await app.StartAsync(cancellationToken);
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
        return new StartedServer(addresses, bootstrap.GeneratedRootKey, bootstrap.RootKeyPath);
    }

    /// <summary>
    /// Builds every endpoint once, on the thread that is not busy with the store, each source in its place standing
    /// for it (<see cref="BuiltEndpointDataSource"/>): the first request otherwise paid for the building after the
    /// server said it was listening.
    /// </summary>
    private static void BuildEndpoints(IEndpointRouteBuilder app)
    {
        var sources = app.DataSources.ToList();
        app.DataSources.Clear();
        foreach (var source in sources)
        {
            app.DataSources.Add(new BuiltEndpointDataSource(source));
        }
    }

    /// <summary>
    /// The flags of <c>serve</c>, else the documented <c>SESSION_MESH_LISTEN</c>, <c>_STORE</c>, <c>_DATA_DIR</c>,
    /// <c>_TLS_CERT</c>, <c>_TLS_KEY</c>, <c>_TLS_PASSWORD</c> variables.
    /// Read from the process environment by their full names: the host's own environment source also holds
    /// every variable without a prefix, and a stray <c>LISTEN</c> or <c>STORE</c> must not configure the mesh.
    /// </summary>
    private static Dictionary<string, string?> CommandLineOverrides(ServeSettings settings, SandboxEnvironment? sandbox)
    {
        var overrides = new Dictionary<string, string?>();
        void Set(string key, string? flag, string variable)
        {
            if ((flag ?? Environment.GetEnvironmentVariable("SESSION_MESH_" + variable)) is { Length: > 0 } value)
            {
                overrides[$"{MeshServerOptions.Section}:{key}"] = value;
            }
        }
        Set(nameof(MeshServerOptions.Listen), settings.Listen, "LISTEN");
        Set(nameof(MeshServerOptions.Store), settings.Store, "STORE");
        Set(nameof(MeshServerOptions.DataDir), settings.DataDir, "DATA_DIR");
        Set(nameof(MeshServerOptions.TlsCertificate), settings.TlsCertificate, "TLS_CERT");
        Set(nameof(MeshServerOptions.TlsKey), settings.TlsKey, "TLS_KEY");
        Set(nameof(MeshServerOptions.TlsPassword), null, "TLS_PASSWORD");
        if (sandbox is not null)
        {
            overrides[$"{MeshServerOptions.Section}:DataDir"] = sandbox.Directory;
            overrides[$"{MeshServerOptions.Section}:Store"] = null;
            if (settings.Listen is null)
            {
                overrides[$"{MeshServerOptions.Section}:Listen"] = "http://127.0.0.1:0";
            }
        }
        return overrides;
    }
}

/// <summary>A running server: where it listens and, on a first start, the root key it generated.</summary>
public sealed record StartedServer(IReadOnlyList<string> Addresses, string? GeneratedRootKey, string RootKeyPath);
