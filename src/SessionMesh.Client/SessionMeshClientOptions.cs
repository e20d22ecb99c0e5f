using SessionMesh.Contracts;

namespace SessionMesh.Client;

/// <summary>How a <see cref="SessionMeshClient"/> reaches the mesh and recovers from failures.</summary>
public sealed class SessionMeshClientOptions
{
    /// <summary>The default server address, <c>http://127.0.0.1:7780</c>.</summary>
    public static readonly Uri DefaultServer = new("http://127.0.0.1:7780");

    /// <summary>The server's address (scheme, host, port); the API prefix is added by the client.</summary>
    public Uri Server { get; set; } = DefaultServer;

    /// <summary>
    /// Other replicas of the same mesh (servers sharing one PostgreSQL database), tried in turn after <see cref="Server"/>:
    /// when the current one cannot be connected to, the request goes to the next at once, and the client stays on the
    /// one that answered. An agent's command stream resumes there from the last command it received.
    /// </summary>
    public IList<Uri> FailoverServers { get; set; } = new List<Uri>();

    /// <summary>The bearer session key sent on every request.</summary>
    public string? SessionKey { get; set; }

    /// <summary>Added as <c>?cluster=</c> to every request when set.</summary>
    public string? Cluster { get; set; }

    /// <summary>
    /// Called on a 401 to get a fresh key; the request is then retried once with it. Null (the default)
    /// means a 401 is final. <see cref="MintingKey"/> is the common way to set this.
    /// </summary>
    public Func<KeyRefreshContext, CancellationToken, ValueTask<string?>>? KeyRefresh { get; set; }

    /// <summary>
    /// A longer-lived key with the <c>keys</c> scope: when set (and <see cref="KeyRefresh"/> is not), a 401
    /// mints a fresh session key with it through <c>POST /keys</c> (using <see cref="MintRequest"/>)
    /// and retries once — the seed's "regenerate the key and retry".
    /// </summary>
    public string? MintingKey { get; set; }

    /// <summary>The body used when minting with <see cref="MintingKey"/>; default: one hour, the minting key's scopes.</summary>
    public CreateKeyRequest? MintRequest { get; set; }

    /// <summary>Total attempts for a transient failure (connection error, 5xx, 429); default 3.</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Base delay of the exponential backoff (jittered); default 500 ms.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Upper bound of one retry delay, <c>Retry-After</c> included; default 30 s.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Timeout of one request/response call (not of streams); default 100 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>Timeout for establishing a connection; default 10 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Sees every attempt on the wire (method, URL, status, timing; the key masked), e.g. for <c>--verbose</c>.</summary>
    public Action<MeshRequestLog>? OnRequest { get; set; }

    /// <summary>Sees every retry decision (attempt number, delay, cause).</summary>
    public Action<MeshRetryLog>? OnRetry { get; set; }

    /// <summary>
    /// A PEM file of the certificate authority (or the self-signed certificate itself) that the server's HTTPS certificate
    /// must chain to, instead of the system's trusted roots: for a mesh serving its own certificate. The host name is still
    /// checked. Ignored with <see cref="PrimaryHandler"/>.
    /// </summary>
    public string? CaCertificateFile { get; set; }

    /// <summary>The innermost handler, for tests or custom transports; default a <see cref="SocketsHttpHandler"/>.</summary>
    public HttpMessageHandler? PrimaryHandler { get; set; }

    /// <summary>The clock used for backoff delays and the agent helper's heartbeats.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}

/// <summary>One attempt as seen on the wire.</summary>
/// <param name="Method">The HTTP method.</param>
/// <param name="Uri">The full request URI.</param>
/// <param name="Status">The response status, or null when the attempt failed without one.</param>
/// <param name="Elapsed">Time until the response headers (or the failure).</param>
/// <param name="MaskedKey">The bearer key with all but its first characters masked; null when none was sent.</param>
/// <param name="Error">The failure, when there was no response.</param>
public sealed record MeshRequestLog(string Method, Uri Uri, int? Status, TimeSpan Elapsed, string? MaskedKey, string? Error);

/// <summary>A retry about to happen.</summary>
/// <param name="Attempt">The attempt that failed, from 1.</param>
/// <param name="Delay">The wait before the next attempt.</param>
/// <param name="Status">The status of the failed attempt, when it had one.</param>
/// <param name="Error">The failure, when there was no response.</param>
public sealed record MeshRetryLog(int Attempt, TimeSpan Delay, int? Status, string? Error);
