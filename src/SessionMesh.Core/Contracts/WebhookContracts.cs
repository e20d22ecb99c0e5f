namespace SessionMesh.Contracts;

/// <summary>Body of <c>POST /webhooks</c>.</summary>
public sealed record CreateWebhookRequest
{
    /// <summary>The http or https URL events are POSTed to; its host must be on the server's allow-list.</summary>
    public string? Url { get; init; }
    /// <summary>Event types and patterns: <c>session.*</c>, <c>command.acked</c>, <c>*</c>.</summary>
    public List<string>? Events { get; init; }
    /// <summary>Label selectors (<c>key=value</c>): only events about agents carrying all of them.</summary>
    public List<string>? Label { get; init; }
    /// <summary>Only events about agents registered for this specialization.</summary>
    public string? Specialization { get; init; }
    public string? Description { get; init; }
    /// <summary>The cluster whose events it receives (admin only; default the key's).</summary>
    public string? Cluster { get; init; }
}

/// <summary>A webhook as listed: never its secret.</summary>
public record WebhookView
{
    public required string WebhookId { get; init; }
    public required string Cluster { get; init; }
    public required string Url { get; init; }
    public required List<string> Events { get; init; }
    public List<string>? Label { get; init; }
    public string? Specialization { get; init; }
    public string? Description { get; init; }
    /// <summary><c>active</c>, or <c>failing</c> once retries ran out (then <c>POST /webhooks/{id}/enable</c>).</summary>
    public required string State { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public string? CreatedBy { get; init; }
    /// <summary>The revision delivered (or passed over) through.</summary>
    public required long DeliveredThrough { get; init; }
    /// <summary>Failed attempts at the next event so far.</summary>
    public int FailedAttempts { get; init; }
    public DateTimeOffset? RetryingSince { get; init; }
    public string? LastError { get; init; }
}

/// <summary>A webhook just created: the only time its signing secret is shown.</summary>
public sealed record CreatedWebhookView : WebhookView
{
    /// <summary>The HMAC-SHA256 signing secret (<c>whsec_...</c>); shown once.</summary>
    public required string Secret { get; init; }
}

/// <summary>One delivery attempt.</summary>
public sealed record WebhookDeliveryView
{
    public required long Id { get; init; }
    /// <summary>The event's revision; 0 for a <c>webhook.test</c> delivery.</summary>
    public required long Revision { get; init; }
    public required string EventType { get; init; }
    /// <summary>The <c>X-SessionMesh-Delivery</c> header: the same on every attempt at one event.</summary>
    public required string DeliveryId { get; init; }
    public required int Attempt { get; init; }
    /// <summary>True when the receiver answered 2xx.</summary>
    public required bool Ok { get; init; }
    public int? StatusCode { get; init; }
    public string? Error { get; init; }
    public required long LatencyMs { get; init; }
    public required DateTimeOffset At { get; init; }
}
