namespace SessionMesh.Server.Hosting;

/// <summary>Server settings (configuration section <c>Server</c>; the command line and <c>SESSION_MESH_*</c> variables override).</summary>
public sealed class MeshServerOptions
{
    public const string Section = "Server";

    /// <summary>Addresses to listen on, separated by ';'.</summary>
    public string Listen { get; set; } = "http://127.0.0.1:7780";

    /// <summary>
    /// The address clients reach the server at (e.g. <c>https://mesh.example.com</c>), for what the server says about
    /// itself (the mesh's A2A card). Unset: the address each request came in on (its scheme, <c>Host</c> header and path
    /// base), which a client chooses.
    /// </summary>
    public string? PublicUrl { get; set; }

    /// <summary><c>sqlite:PATH</c>, a file path, or empty for <c>session-mesh.db</c> in the data directory.</summary>
    public string? Store { get; set; }

    /// <summary>Where the database and the generated root key file live.</summary>
    public string DataDir { get; set; } = "session-mesh-data";

    /// <summary>HTTPS certificate: a PEM certificate (with its key, or see <see cref="TlsKey"/>) or a .pfx/.p12 file; serves the https:// listen addresses.</summary>
    public string? TlsCertificate { get; set; }

    /// <summary>The PEM private key of <see cref="TlsCertificate"/>, when it is in a file of its own.</summary>
    public string? TlsKey { get; set; }

    /// <summary>The password of an encrypted PEM key or of a .pfx/.p12 file (set it by environment, not on a command line).</summary>
    public string? TlsPassword { get; set; }

    /// <summary>Serve <c>/healthz</c>, <c>/readyz</c> and <c>/metrics</c>.</summary>
    public bool OperationsEndpoints { get; set; } = true;

    /// <summary>Serve the web dashboard at <c>/</c> (its files need no key; everything it shows comes through the API with the operator's key).</summary>
    public bool Dashboard { get; set; } = true;

    /// <summary>When set (e.g. <c>http://127.0.0.1:7781</c>), the operations endpoints are served only there.</summary>
    public string? OperationsListen { get; set; }

    /// <summary>Requests per second each key may make, on average.</summary>
    public int RateLimitPerSecond { get; set; } = 500;

    /// <summary>How many requests a key may make at once above the average.</summary>
    public int RateLimitBurst { get; set; } = 1000;

    /// <summary>The largest request body accepted, in bytes.</summary>
    public long MaxRequestBodySize { get; set; } = 1024 * 1024;

    /// <summary>Streams (event and command streams, long polls) one key may hold open at once; one more is refused 429.</summary>
    public int MaxStreamsPerKey { get; set; } = 64;

    /// <summary>Command streams (SSE or long poll) open at once for one agent, whatever the key; one more is refused 429.</summary>
    public int MaxCommandStreamsPerAgent { get; set; } = 4;

    /// <summary>A quiet stream sends an SSE comment this often, so proxies that cut silent responses leave it open.</summary>
    public TimeSpan StreamKeepAlive { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long a client may take to send a request's headers; a slower one (slowloris) is answered 408 and
    /// disconnected. Kestrel's default is 30 s; an API client sends its headers in one write.
    /// </summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a connection may sit idle between requests before it is closed.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>
    /// The slowest a request body may arrive, in bytes per second, once <see cref="MinRequestBodyDataRateGracePeriod"/>
    /// has passed; a slower one is answered 408 and disconnected. 0 turns the check off.
    /// </summary>
    public double MinRequestBodyDataRate { get; set; } = 240;

    /// <summary>How long a request body may arrive slower than <see cref="MinRequestBodyDataRate"/> before it is cut.</summary>
    public TimeSpan MinRequestBodyDataRateGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long shutdown waits for open requests and streams.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
