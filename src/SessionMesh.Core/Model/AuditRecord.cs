namespace SessionMesh.Model;

/// <summary>Who did which mutating call, when, with what outcome.</summary>
public sealed record AuditRecord(
    long Id,
    DateTimeOffset At,
    string KeyId,
    string Cluster,
    string Method,
    string Path,
    int Status,
    string? Code);
