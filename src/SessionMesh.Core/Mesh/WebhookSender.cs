using System.Diagnostics;
using System.Net.Http.Headers;
using Microsoft.Extensions.Options;
using SessionMesh.Model;

namespace SessionMesh.Mesh;

/// <summary>What one delivery attempt got: the receiver's status, or why none came, and how long it took.</summary>
public sealed record WebhookAttempt(int? StatusCode, string? Error, long LatencyMs)
{
    /// <summary>True when the receiver answered 2xx.</summary>
    public bool Succeeded => StatusCode is >= 200 and < 300;
}

/// <summary>
/// Sends one signed POST: the host re-checked against the allow-list first, no redirect followed (a 3xx is a failed
/// attempt), a timeout per attempt, nothing of the answer read but its status. The URL and the secret are never logged
/// (the HTTP client's own request logging is removed where it is registered).
/// </summary>
public sealed class WebhookSender(IHttpClientFactory clients, WebhookHosts hosts, IOptions<WebhookOptions> options, TimeProvider time)
{
    /// <summary>The name of the HTTP client deliveries go through.</summary>
    public const string ClientName = "SessionMesh.Webhooks";

    /// <summary>POSTs <paramref name="body"/> to the webhook, signed; never throws for a receiver's failure, only when <paramref name="cancellationToken"/> fires.</summary>
    public async Task<WebhookAttempt> SendAsync(WebhookRecord webhook, string eventType, string deliveryId, byte[] body, CancellationToken cancellationToken)
    {
        var uri = new Uri(webhook.Url);
        if (hosts.RefusalOf(uri) is { } refusal)
        {
            return new WebhookAttempt(null, refusal, 0);
        }
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add(WebhookSignature.DeliveryHeader, deliveryId);
        request.Headers.Add(WebhookSignature.EventHeader, eventType);
        request.Headers.Add(WebhookSignature.WebhookHeader, webhook.WebhookId);
        request.Headers.Add(WebhookSignature.TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(WebhookSignature.Header, WebhookSignature.Sign(webhook.Secret, timestamp, body));
        request.Headers.UserAgent.ParseAdd("session-mesh-webhooks/1");

        var timeout = options.Value.Timeout;
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(timeout);
        var started = Stopwatch.GetTimestamp();
        long Elapsed() => (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        try
        {
            using var response = await clients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attempt.Token);
            var status = (int)response.StatusCode;
            var error = status is >= 300 and < 400 ? "redirects are not followed" : null;
            return new WebhookAttempt(status, error, Elapsed());
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new WebhookAttempt(null, $"timed out after {timeout.TotalSeconds:0.###} s", Elapsed());
        }
        catch (HttpRequestException ex)
        {
            return new WebhookAttempt(null, ex.HttpRequestError == HttpRequestError.Unknown ? ex.Message : $"{ex.HttpRequestError}: {ex.Message}", Elapsed());
        }
    }
}
