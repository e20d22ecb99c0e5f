namespace SessionMesh.Server.Hosting;

/// <summary>Server settings (configuration section <c>Server</c>; the command line and <c>SESSION_MESH_*</c> variables override).</summary>
public sealed class MeshServerOptions
{
    public const string Section = "Server";

    /// <summary>Addresses to listen on, separated by ';'.</summary>
    public string Listen { get; set; } = "http://127.0.0.1:7780";

    /// <summary><c>sqlite:PATH</c>, a file path, or empty for <c>session-mesh.db</c> in the data directory.</summary>
    public string? Store { get; set; }

    /// <summary>Where the database and the generated root key file live.</summary>
    public string DataDir { get; set; } = "session-mesh-data";

    /// <summary>Serve <c>/healthz</c>, <c>/readyz</c> and <c>/metrics</c>.</summary>
    public bool OperationsEndpoints { get; set; } = true;

    /// <summary>When set (e.g. <c>http://127.0.0.1:7781</c>), the operations endpoints are served only there.</summary>
    public string? OperationsListen { get; set; }

    /// <summary>Requests per second each key may make, on average.</summary>
    public int RateLimitPerSecond { get; set; } = 500;

    /// <summary>How many requests a key may make at once above the average.</summary>
    public int RateLimitBurst { get; set; } = 1000;

    /// <summary>The largest request body accepted, in bytes.</summary>
    public long MaxRequestBodySize { get; set; } = 1024 * 1024;

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
