namespace SessionMesh.Tests.Infrastructure;

/// <summary>A fresh directory under the system temp folder for one test, deleted with everything in it on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Path = MeshTestServer.NewDataDir();

    public string Path { get; }

    public void Dispose() => MeshTestServer.DeleteDataDir(Path);
}
