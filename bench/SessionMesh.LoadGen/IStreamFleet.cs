namespace SessionMesh.LoadGen;

/// <summary>A fleet's open command streams, wherever they are held (<see cref="CommandStreams"/>, <see cref="StreamHosts"/>).</summary>
internal interface IStreamFleet : IAsyncDisposable
{
    /// <summary>How many streams are open.</summary>
    int Count { get; }

    /// <summary>Streams the server ended or that broke before the bench closed them (should stay 0).</summary>
    long Lost { get; }
}
