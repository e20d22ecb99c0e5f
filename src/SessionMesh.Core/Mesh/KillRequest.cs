namespace SessionMesh.Mesh;

/// <summary>The query of <c>DELETE /agents/{id}</c>, as given; validated by <see cref="CommandService.KillAsync"/>.</summary>
public sealed record KillRequest(bool Force = false, bool Cascade = true, int? GracePeriod = null, string? Reason = null, string? Cluster = null);
