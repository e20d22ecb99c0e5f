namespace SessionMesh.LoadGen;

/// <summary>One row of a results table.</summary>
/// <param name="Target">The process the row's calls went to: baseline, server or etcd.</param>
/// <param name="Derived">The calls of the row above, timed differently: no CPU figures of its own.</param>
internal sealed record ScenarioRow(string Id, string Scenario, string Target, Measurement Result, bool Derived = false);

/// <summary>A session-mesh scenario and the etcd scenario that does the same job, measured side by side.</summary>
internal sealed record PeerPair(string Name, Measurement Mesh, Measurement Etcd);

/// <summary>Every scenario at one connection count, with the baseline it is divided by.</summary>
internal sealed record ConnectionRound(int Connections, Measurement Baseline, IReadOnlyList<ScenarioRow> Rows, IReadOnlyList<PeerPair> Pairs);

/// <summary>What the run measured, for the report.</summary>
internal sealed record BenchResults(
    LoadGenOptions Options,
    IReadOnlyList<ConnectionRound> Rounds,
    ConnectionRound OneAtATime,
    IReadOnlyList<string> Processes,
    FsyncProbe Fsync,
    IReadOnlyList<MemorySnapshot> Memory,
    IReadOnlyList<string> Notes,
    string LoadAverageAtStart,
    TimeSpan Total);
