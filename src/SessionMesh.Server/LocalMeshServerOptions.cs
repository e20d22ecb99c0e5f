using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using SessionMesh.Server.Hosting;

namespace SessionMesh.Server;

/// <summary>What a <see cref="LocalMeshServer"/> starts with; everything but the store has a default.</summary>
public sealed record LocalMeshServerOptions
{
    /// <summary>
    /// Plugs the store in, as <see cref="ServeSettings.UseStore"/> does for <c>serve</c>; the server references no
    /// store project, so its host chooses, e.g. <c>(mesh, options) =&gt; mesh.UseSqlite(SqliteStoreSetting.ToDataSource(options.Store, options.DataDir))</c>.
    /// </summary>
    public required Action<ISessionMeshBuilder, MeshServerOptions> UseStore { get; init; }

    /// <summary>
    /// A data directory to reuse (a restart), kept on dispose; null for a fresh temp directory, deleted on dispose.
    /// Leave it null in <see cref="Sandbox"/> mode: the sandbox makes (and deletes) its own.
    /// </summary>
    public string? DataDir { get; init; }

    /// <summary>
    /// The root key: null for a fresh one of the generated shape (<c>sm_root.&lt;secret&gt;</c>, which authentication
    /// finds by its id); "" to let the server generate one on a first start, as <c>serve</c> does.
    /// </summary>
    public string? RootKey { get; init; }

    /// <summary>Extra configuration (<c>Section:Key</c> = value), passed as <c>--Section:Key=value</c> arguments.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();

    /// <summary>A <c>serve --sandbox</c> server: its own throwaway store, fault injection.</summary>
    public bool Sandbox { get; init; }

    /// <summary>Sandbox fault rates, e.g. <c>5xx=0.1,latency=20ms-200ms</c>.</summary>
    public string? Faults { get; init; }

    /// <summary>Runs on the builder after the server's own services are added, e.g. to replace the <see cref="TimeProvider"/>.</summary>
    public Action<WebApplicationBuilder>? Configure { get; init; }
}
