namespace SessionMesh.Model;

/// <summary>
/// An HTTP receiver of one cluster's events, fed from the durable event log through its own cursor.
/// </summary>
/// <param name="Events">The event type patterns it receives (<c>session.*</c>, <c>command.acked</c>, <c>*</c>).</param>
/// <param name="Labels">Only events about agents carrying every one of these labels; empty: any agent (and events about none).</param>
/// <param name="Specialization">Only events about agents registered for this specialization.</param>
/// <param name="Secret">The HMAC-SHA256 signing secret: kept to sign, shown only in the answer that created the webhook.</param>
/// <param name="State"><c>active</c>, or <c>failing</c> once retries of one delivery ran out (it then sends nothing until enabled).</param>
/// <param name="Cursor">The revision delivered (or passed over) through: the next delivery is the first matching event above it.</param>
/// <param name="Attempts">Failed attempts at the event after <paramref name="Cursor"/> so far; 0 when none failed.</param>
/// <param name="RetryingSince">When the first of those failed attempts was made; null when none failed.</param>
/// <param name="LastError">What the last failed attempt got (a status code or an error), for the listing.</param>
public sealed record WebhookRecord(
    string WebhookId,
    string Cluster,
    string Url,
    IReadOnlyList<string> Events,
    IReadOnlyDictionary<string, string> Labels,
    string? Specialization,
    string? Description,
    string Secret,
    DateTimeOffset CreatedAt,
    string? CreatedBy,
    string State,
    long Cursor,
    int Attempts,
    DateTimeOffset? RetryingSince,
    string? LastError)
{
    /// <summary>The state of a webhook that delivers.</summary>
    public const string Active = "active";

    /// <summary>The state of a webhook whose retries ran out: it sends nothing until enabled again.</summary>
    public const string Failing = "failing";
}
