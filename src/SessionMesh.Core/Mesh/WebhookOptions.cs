namespace SessionMesh.Mesh;

/// <summary>Webhook delivery settings (configuration section <c>Mesh:Webhooks</c>).</summary>
public sealed class WebhookOptions
{
    public const string Section = "Mesh:Webhooks";

    /// <summary>
    /// The hosts webhooks may point at, comma-separated: exact names or addresses (<c>hooks.example.com</c>,
    /// <c>10.0.0.7</c>) and wildcards for subdomains (<c>*.example.com</c>). Empty: no webhook can be created. Also
    /// <c>SESSION_MESH_WEBHOOK_ALLOWED_HOSTS</c>.
    /// </summary>
    public string AllowedHosts { get; set; } = "";

    /// <summary>Whether loopback destinations (<c>localhost</c>, 127.0.0.0/8, ::1) are allowed whatever the list says: sandbox mode sets it.</summary>
    public bool AllowLoopback { get; set; }

    /// <summary>How long one delivery attempt may take before it counts as failed.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long one event is retried before the webhook is marked <c>failing</c>.</summary>
    public TimeSpan RetryFor { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The most attempts at one event before the webhook is marked <c>failing</c> (whichever of this and <see cref="RetryFor"/> comes first).</summary>
    public int MaxAttempts { get; set; } = 30;

    /// <summary>The wait before the first retry; each further retry waits twice as long, up to <see cref="MaxBackoff"/>, with jitter.</summary>
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between two attempts.</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How often the dispatcher looks for new events and webhooks without being woken (the backstop of the in-process wake-ups, and the way replicas' events are noticed).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How many of its latest delivery attempts each webhook keeps for <c>GET /webhooks/{id}/deliveries</c>.</summary>
    public int DeliveriesKept { get; set; } = 100;
}
