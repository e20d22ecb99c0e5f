using Microsoft.Extensions.DependencyInjection;
using SessionMesh.Server.Hosting;

namespace SessionMesh.Server;

/// <summary>What <c>session-mesh serve</c> was asked for on its command line; null means "from configuration".</summary>
public sealed record ServeSettings
{
    /// <summary>Address to listen on, e.g. <c>http://127.0.0.1:7780</c>; port 0 picks a free one.</summary>
    public string? Listen { get; init; }
    /// <summary><c>sqlite:./session-mesh.db</c>, a file path, or a PostgreSQL connection string.</summary>
    public string? Store { get; init; }
    /// <summary>Directory for the database file and the generated root key.</summary>
    public string? DataDir { get; init; }
    /// <summary>HTTPS certificate file (PEM or .pfx/.p12); see <see cref="Hosting.MeshServerOptions.TlsCertificate"/>.</summary>
    public string? TlsCertificate { get; init; }
    /// <summary>PEM private key file of <see cref="TlsCertificate"/>, when separate.</summary>
    public string? TlsKey { get; init; }
    /// <summary>Console logs as JSON lines.</summary>
    public bool JsonLogs { get; init; }
    /// <summary>Sandbox mode: a throwaway store (deleted at exit), a printed root key, a free port, fault injection.</summary>
    public bool Sandbox { get; init; }
    /// <summary>Fault injection rates for sandbox mode, e.g. <c>5xx=0.1,latency=20ms-200ms</c>.</summary>
    public string? Faults { get; init; }
    /// <summary>
    /// Plugs the store in, given the server's settings as configured (<see cref="MeshServerOptions.Store"/>,
    /// <see cref="MeshServerOptions.DataDir"/>; in sandbox mode, the throwaway directory), e.g.
    /// <c>(mesh, options) =&gt; mesh.UseSqlite(SqliteStoreSetting.ToDataSource(options.Store, options.DataDir))</c>.
    /// The server references no store project, so its host chooses; without one, <see cref="ServerHost.Build"/> fails.
    /// </summary>
    public Action<ISessionMeshBuilder, MeshServerOptions>? UseStore { get; init; }
    /// <summary>Extra configuration arguments (<c>--Section:Key=value</c>) passed to the host.</summary>
    public IReadOnlyList<string> ConfigurationArgs { get; init; } = [];
}
