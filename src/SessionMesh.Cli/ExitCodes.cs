namespace SessionMesh.Cli;

/// <summary>The CLI's exit codes, as DESIGN.md lists them.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Error = 1;
    public const int Usage = 2;
    public const int NotFound = 3;
    public const int Unauthorized = 4;
    public const int Conflict = 5;
    public const int Unreachable = 6;
}
