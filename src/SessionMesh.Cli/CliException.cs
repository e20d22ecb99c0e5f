namespace SessionMesh.Cli;

/// <summary>A failure the CLI reports as one line and an exit code, without a stack trace.</summary>
internal sealed class CliException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    public static CliException Usage(string message) => new(ExitCodes.Usage, message);

    public static CliException MissingKey() => new(
        ExitCodes.Unauthorized,
        "no session key: SESSION_API_KEY is not set. Export a key first (export SESSION_API_KEY=<key>); `session-mesh serve` prints the root key at first start, and `session-mesh keys create` mints more.");
}
