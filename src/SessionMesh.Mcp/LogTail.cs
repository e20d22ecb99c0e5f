using SessionMesh.Mesh;

namespace SessionMesh.Mcp;

/// <summary>The bounds of <c>tail_logs</c>: an answer an agent can read in one go, smaller than the API's.</summary>
internal static class LogTail
{
    public const int Default = 100;

    public const int Max = 1000;

    public static int Check(int tail) =>
        tail is >= 1 and <= Max ? tail : throw MeshException.Invalid("tail", $"'tail' must be between 1 and {Max} lines.");
}
