using System.Text.Json;

namespace SessionMesh.Model;

/// <summary>One state change, numbered by a strictly increasing revision.</summary>
public sealed record MeshEventRecord(
    long Revision,
    string Cluster,
    string Type,
    DateTimeOffset At,
    string? AgentId,
    string? SessionId,
    JsonElement? Data);
