namespace SessionMesh.Server.Hosting;

/// <summary>
/// One refusal as the HTTP API answers it: what <see cref="Problems"/>
/// writes and what the audit log records, so the two never disagree.
/// </summary>
internal sealed record MeshProblem(int Status, string Code, string Title, string Detail, string? Field = null);
