namespace SessionMesh.Tests.Infrastructure;

/// <summary>How long a test waits for something that should happen, before it fails instead of hanging.</summary>
public static class TestTimeouts
{
    public static readonly TimeSpan Request = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan Event = TimeSpan.FromSeconds(15);
}
