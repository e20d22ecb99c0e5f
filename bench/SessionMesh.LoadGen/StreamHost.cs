using System.Diagnostics;
using System.Globalization;

namespace SessionMesh.LoadGen;

/// <summary>
/// One stream host, run as <c>SessionMesh.LoadGen --stream-host</c> by <see cref="StreamHosts"/>: a share of the fleet's
/// agents, each holding its command stream in this process, as agents in a real fleet hold theirs in processes of
/// their own. The server's address, key and the opening settings come in the environment; the agent ids on stdin, one
/// per line, ended by an empty line. It prints <c>ready N</c> once every stream is attached, then one line per command
/// frame (<c>cmd ARRIVED DIRECTION</c>, the arrival a <see cref="Stopwatch"/> timestamp) and per stream lost (<c>lost</c>),
/// and closes its streams and exits when its stdin closes.
/// </summary>
internal static class StreamHost
{
    public const string Argument = "--stream-host";
    public const string UrlVariable = "SESSION_MESH_BENCH_URL";
    public const string KeyVariable = "SESSION_MESH_BENCH_KEY";
    public const string SourcesVariable = "SESSION_MESH_BENCH_SOURCES";
    public const string ParallelismVariable = "SESSION_MESH_BENCH_PARALLELISM";

    public static async Task<int> RunAsync()
    {
        try
        {
            var url = new Uri(Environment.GetEnvironmentVariable(UrlVariable) ?? throw new InvalidOperationException($"{UrlVariable} is not set."));
            var key = Environment.GetEnvironmentVariable(KeyVariable);
            var sources = int.Parse(Environment.GetEnvironmentVariable(SourcesVariable) ?? "1", CultureInfo.InvariantCulture);
            var parallelism = int.Parse(Environment.GetEnvironmentVariable(ParallelismVariable) ?? "16", CultureInfo.InvariantCulture);
            var agentIds = new List<string>();
            while (await Console.In.ReadLineAsync() is { Length: > 0 } line)
            {
                agentIds.Add(line);
            }
            var output = Console.Out;
            using var http = Target.StreamClient(url, key, sources);
            await using var streams = await CommandStreams.OpenAsync(http, agentIds, parallelism,
                (direction, arrived) => output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"cmd {arrived} {direction}")),
                CancellationToken.None, onLost: () => output.WriteLine("lost"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ready {streams.Count} {Stopwatch.Frequency}"));
            while (await Console.In.ReadLineAsync() is not null)
            {
            }
            return 0;
        }
        catch (Exception ex)
        {
            await Console.Error.WriteLineAsync($"stream host: {ex.Message}");
            return 1;
        }
    }
}
