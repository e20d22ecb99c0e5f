namespace SessionMesh.Model;

/// <summary>One attempt at delivering one event to a webhook (or a skip over compacted history), as listed by <c>GET /webhooks/{id}/deliveries</c>.</summary>
/// <param name="Id">Assigned by the store, increasing: the newest attempt has the highest.</param>
/// <param name="Revision">The event's revision; 0 for a <c>webhook.test</c> delivery.</param>
/// <param name="DeliveryId">The de-duplication id sent in <c>X-SessionMesh-Delivery</c>, the same on every attempt at one event.</param>
/// <param name="Attempt">1 for the first attempt at this event, 2 for the first retry, ...</param>
/// <param name="StatusCode">The receiver's HTTP status; null when no answer came (see <paramref name="Error"/>).</param>
/// <param name="Error">Why the attempt failed without a status (timeout, connection refused, host not allowed), or a note (a skip).</param>
public sealed record WebhookDeliveryRecord(
    long Id,
    string WebhookId,
    long Revision,
    string EventType,
    string DeliveryId,
    int Attempt,
    int? StatusCode,
    string? Error,
    long LatencyMs,
    DateTimeOffset At)
{
    /// <summary>True when the receiver answered 2xx.</summary>
    public bool Succeeded => StatusCode is >= 200 and < 300;
}
