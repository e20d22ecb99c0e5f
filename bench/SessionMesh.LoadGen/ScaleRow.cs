namespace SessionMesh.LoadGen;

/// <summary>One scale target: what was measured, the target, whether it was met (null: not run or reported only), and how.</summary>
internal sealed record ScaleRow(string Id, string Scenario, string Figure, string Target, bool? Met, string Details);
