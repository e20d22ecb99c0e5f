using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.Retry;
using SessionMesh.Contracts;

namespace SessionMesh.Client.Http;

/// <summary>
/// The HTTP plumbing of the client: the handler chain (auth → retry → observer → sockets), the JSON of
/// the shared contract, and problem+json turned into <see cref="SessionMeshException"/>.
/// </summary>
internal sealed class MeshTransport : IDisposable
{
    public const string ApiPrefix = "api/session-mesh/";
    private const string IdempotencyHeader = "Idempotency-Key";

    // Responses are read leniently (a newer server may add fields); requests are written with the shared context as is.
    private static readonly JsonSerializerOptions s_readOptions = new(MeshJsonContext.Default.Options)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    };

    private readonly SessionMeshClientOptions _options;
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _refreshLock = new(1, 1);
    private readonly Uri _apiBase;
    private readonly FailoverHandler _failover;
    private string? _currentKey;

    public MeshTransport(SessionMeshClientOptions options)
    {
        _options = options;
        _currentKey = KeyText(options.SessionKey);
        var server = options.Server.AbsoluteUri.EndsWith('/') ? options.Server : new Uri(options.Server.AbsoluteUri + "/");
        _apiBase = new Uri(server, ApiPrefix);

        var primary = options.PrimaryHandler ?? new SocketsHttpHandler
        {
            ConnectTimeout = options.ConnectTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            SslOptions = CaTrust.SslOptions(options.CaCertificateFile),
        };
        HttpMessageHandler chain = new ObserverHandler(options.OnRequest, options.TimeProvider) { InnerHandler = primary };
        _failover = new FailoverHandler([options.Server, .. options.FailoverServers]) { InnerHandler = chain };
        chain = _failover;
        if (options.MaxAttempts > 1)
        {
            chain = new ResilienceHandler(BuildRetryPipeline(options)) { InnerHandler = chain };
        }
        chain = new AuthHandler(this) { InnerHandler = chain };
        // Streams stay open for as long as the caller reads them; calls get their own timeout instead.
        _http = new HttpClient(chain) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>The server requests go to now: <see cref="SessionMeshClientOptions.Server"/>, or the replica failed over to.</summary>
    public Uri Server => _failover.Current;

    public string? CurrentKey => Volatile.Read(ref _currentKey);

    public bool CanRefreshKey => _options.KeyRefresh is not null || _options.MintingKey is not null;

    public TimeProvider TimeProvider => _options.TimeProvider;

    public event Action<string>? KeyRefreshed;

    public static string NewIdempotencyKey() => Guid.CreateVersion7().ToString("N");

    public static JsonTypeInfo<T> ReadInfo<T>(JsonTypeInfo<T> writeInfo) =>
        (JsonTypeInfo<T>)s_readOptions.GetTypeInfo(writeInfo.Type);

    /// <summary>Sends a call with an optional JSON body and reads a JSON answer.</summary>
    public async Task<TResponse> SendAsync<TRequest, TResponse>(
        HttpMethod method, string path, TRequest? body, JsonTypeInfo<TRequest>? bodyInfo, JsonTypeInfo<TResponse> responseInfo,
        MeshCallOptions? call, CancellationToken cancellationToken)
    {
        var (value, _) = await SendWithStatusAsync(method, path, body, bodyInfo, responseInfo, call, cancellationToken);
        return value;
    }

    /// <summary>Like <see cref="SendAsync"/>, also returning the status (201 vs 200).</summary>
    public async Task<(TResponse Value, HttpStatusCode Status)> SendWithStatusAsync<TRequest, TResponse>(
        HttpMethod method, string path, TRequest? body, JsonTypeInfo<TRequest>? bodyInfo, JsonTypeInfo<TResponse> responseInfo,
        MeshCallOptions? call, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(call?.Timeout ?? _options.RequestTimeout);
        using var request = CreateRequest(method, path, body, bodyInfo, call);
        using var response = await SendCoreAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token);
        var value = await JsonSerializer.DeserializeAsync(stream, ReadInfo(responseInfo), timeout.Token)
            ?? throw new JsonException($"The server answered {method} {path} with an empty body.");
        return (value, response.StatusCode);
    }

    /// <summary>Sends a GET and returns the body as text (topology as dot or mermaid).</summary>
    public async Task<string> GetTextAsync(string path, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.RequestTimeout);
        using var request = CreateRequest<object>(HttpMethod.Get, path, null, null, null);
        using var response = await SendCoreAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        return await response.Content.ReadAsStringAsync(timeout.Token);
    }

    /// <summary>Opens a Server-Sent Events stream; the caller owns the response.</summary>
    public async Task<HttpResponseMessage> OpenStreamAsync(string path, MeshCallOptions? call, CancellationToken cancellationToken)
    {
        var request = CreateRequest<object>(HttpMethod.Get, path, null, null, call);
        request.Headers.Accept.Clear();
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        HttpResponseMessage? response = null;
        try
        {
            response = await SendCoreAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken, cancellationToken);
            await EnsureSuccessAsync(response, cancellationToken);
            return response;
        }
        catch
        {
            response?.Dispose();
            request.Dispose();
            throw;
        }
    }

    public async Task<string?> RefreshKeyAsync(string? rejectedKey, SessionMeshException rejection, CancellationToken cancellationToken)
    {
        await _refreshLock.WaitAsync(cancellationToken);
        try
        {
            // Another request refreshed while this one waited: use its key rather than minting again.
            var current = CurrentKey;
            if (current != rejectedKey)
            {
                return current;
            }
            var context = new KeyRefreshContext(this, rejectedKey, rejection);
            string? fresh;
            if (_options.KeyRefresh is { } refresh)
            {
                fresh = await refresh(context, cancellationToken);
            }
            else
            {
                var minted = await context.MintAsync(KeyText(_options.MintingKey)!, _options.MintRequest ?? new CreateKeyRequest { Ttl = 3600, Name = "session-mesh-client" }, cancellationToken);
                fresh = minted.SessionKey;
            }
            if (fresh is not null)
            {
                Volatile.Write(ref _currentKey, fresh);
                KeyRefreshed?.Invoke(fresh);
            }
            return fresh;
        }
        finally
        {
            _refreshLock.Release();
        }
    }

    public void SetKey(string? key) => Volatile.Write(ref _currentKey, KeyText(key));

    /// <summary>
    /// A key as it goes on the wire: without the spaces, tabs and line ends around it that a key file saved on Windows or
    /// a variable set with <c>$(cat key)</c> carries (a line end in a header would fail every request); null when empty.
    /// </summary>
    internal static string? KeyText(string? key) => key?.Trim() is { Length: > 0 } trimmed ? trimmed : null;

    public void Dispose()
    {
        _http.Dispose();
        _refreshLock.Dispose();
    }

    /// <summary>Reads an error response into a <see cref="SessionMeshException"/>.</summary>
    public static async Task<SessionMeshException> ToExceptionAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        ProblemResponse? problem = null;
        try
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (text.Length > 0 && text.TrimStart().StartsWith('{'))
            {
                problem = JsonSerializer.Deserialize(text, ReadInfo(MeshJsonContext.Default.ProblemResponse));
            }
        }
        catch (JsonException)
        {
            // Not a problem document (a proxy's HTML page, say): the status alone has to do.
        }
        problem ??= new ProblemResponse { Status = (int)response.StatusCode, Title = response.ReasonPhrase };
        return new SessionMeshException((int)response.StatusCode, problem, RetryAfterOf(response));
    }

    private static TimeSpan? RetryAfterOf(HttpResponseMessage response)
    {
        var retryAfter = response.Headers.RetryAfter;
        if (retryAfter?.Delta is { } delta)
        {
            return delta;
        }
        return retryAfter?.Date is { } date ? date - DateTimeOffset.UtcNow : null;
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw await ToExceptionAsync(response, cancellationToken);
        }
    }

    private HttpRequestMessage CreateRequest<TRequest>(HttpMethod method, string path, TRequest? body, JsonTypeInfo<TRequest>? bodyInfo, MeshCallOptions? call)
    {
        var relative = new MeshQuery(path).Add("cluster", _options.Cluster).ToString();
        var request = new HttpRequestMessage(method, new Uri(_apiBase, relative));
        if (body is not null && bodyInfo is not null)
        {
            // Bytes, not a stream: a retried or re-authenticated request sends the same body again.
            var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, bodyInfo));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
            request.Content = content;
        }
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Options.Set(MeshRequestOptions.Attempts, new AttemptCounter());
        if (call is null)
        {
            return request;
        }
        if (call.IdempotencyKey is { } idempotencyKey)
        {
            request.Headers.TryAddWithoutValidation(IdempotencyHeader, idempotencyKey);
        }
        if (call.BearerOverride is { } bearer)
        {
            request.Options.Set(MeshRequestOptions.BearerOverride, bearer);
        }
        if (call.Retryable)
        {
            request.Options.Set(MeshRequestOptions.Retryable, true);
        }
        if (call.LastEventId is { } lastEventId)
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        }
        return request;
    }

    private async Task<HttpResponseMessage> SendCoreAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken token, CancellationToken callerToken)
    {
        try
        {
            return await _http.SendAsync(request, completion, token);
        }
        catch (HttpRequestException ex)
        {
            throw new SessionMeshConnectionException(Server, AttemptsOf(request), ex);
        }
        catch (OperationCanceledException ex) when (!callerToken.IsCancellationRequested)
        {
            throw new SessionMeshConnectionException(Server, AttemptsOf(request), new TimeoutException("the request timed out", ex));
        }
    }

    private static int AttemptsOf(HttpRequestMessage request) =>
        request.Options.TryGetValue(MeshRequestOptions.Attempts, out var counter) ? Math.Max(1, counter.Count) : 1;

    private static ResiliencePipeline<HttpResponseMessage> BuildRetryPipeline(SessionMeshClientOptions options)
    {
        var retry = new HttpRetryStrategyOptions
        {
            MaxRetryAttempts = options.MaxAttempts - 1,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = options.RetryBaseDelay,
            MaxDelay = options.MaxRetryDelay,
            ShouldRetryAfterHeader = true,
            ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome, args.Context)),
            OnRetry = args =>
            {
                options.OnRetry?.Invoke(new MeshRetryLog(
                    args.AttemptNumber + 1, args.RetryDelay, (int?)args.Outcome.Result?.StatusCode, args.Outcome.Exception?.Message));
                return default;
            },
        };
        return new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = options.TimeProvider }
            .AddRetry(retry)
            .Build();
    }

    /// <summary>
    /// Transient (connection error, 5xx, 408, 429) and safe to repeat: an idempotent method, a POST carrying an
    /// <c>Idempotency-Key</c> or marked repeatable, or any request that never reached the server.
    /// </summary>
    internal static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, ResilienceContext context)
    {
        if (!HttpClientResiliencePredicates.IsTransient(outcome))
        {
            return false;
        }
        if (outcome.Exception is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError })
        {
            return true;
        }
        var request = context.GetRequestMessage();
        if (request is null)
        {
            return false;
        }
        if (request.Method == HttpMethod.Get || request.Method == HttpMethod.Head || request.Method == HttpMethod.Options
            || request.Method == HttpMethod.Put || request.Method == HttpMethod.Delete)
        {
            return true;
        }
        return request.Headers.Contains(IdempotencyHeader)
            || (request.Options.TryGetValue(MeshRequestOptions.Retryable, out var retryable) && retryable);
    }
}
