using System.Net.ServerSentEvents;
using BenchmarkDotNet.Attributes;
using SessionMesh.Contracts;
using SessionMesh.Mesh;
using SessionMesh.Server.Endpoints;

namespace SessionMesh.MicroBench;

/// <summary>
/// Writing one command frame of an agent's stream: Core's typed frame turned into an SSE item and formatted onto the
/// response stream, as the server does for every steer it pushes. The baseline formats a fixed string payload, the
/// least any SSE frame costs.
/// </summary>
[MemoryDiagnoser]
public class FrameWritingBenchmark : IDisposable
{
    private readonly MemoryStream _output = new(capacity: 64 * 1024);
    private CommandStreamFrame[] _frames = [];
    private SseItem<string>[] _fixed = [];

    [GlobalSetup]
    public void Setup()
    {
        var command = new CommandView
        {
            CommandId = "cmd_01a228f178ab596e528b55c3d04d",
            AgentId = "123",
            Cluster = "default",
            Kind = "steer",
            Status = "delivered",
            Sequence = 1,
            Direction = "north",
            Mode = "inject",
            CreatedAt = DateTimeOffset.UnixEpoch,
            DeliveredAt = DateTimeOffset.UnixEpoch,
            CreatedBy = "root",
        };
        _frames = [new CommandStreamFrame.Command(command)];
        _fixed = [new SseItem<string>("""{"command_id":"cmd_01a228f178ab596e528b55c3d04d"}""", "command") { EventId = "1" }];
    }

    [Benchmark(Baseline = true)]
    public Task FixedFrame()
    {
        _output.SetLength(0);
        return SseFormatter.WriteAsync(ToAsync(_fixed), _output);
    }

    [Benchmark]
    public Task CommandFrame()
    {
        _output.SetLength(0);
        return SseFormatter.WriteAsync(SseFrames.Of(ToAsync(_frames)), _output, SseFrames.Format);
    }

    public void Dispose()
    {
        _output.Dispose();
        GC.SuppressFinalize(this);
    }

    private static async IAsyncEnumerable<T> ToAsync<T>(T[] items)
    {
        foreach (var item in items)
        {
            yield return item;
        }
        await Task.CompletedTask;
    }
}
