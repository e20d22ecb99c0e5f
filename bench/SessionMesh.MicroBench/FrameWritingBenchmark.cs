using System.Buffers;
using BenchmarkDotNet.Attributes;
using SessionMesh.Contracts;
using SessionMesh.Mesh;
using SessionMesh.Server.Endpoints;

namespace SessionMesh.MicroBench;

/// <summary>
/// Writing one command frame of an agent's stream: Core's typed frame written in the SSE format into the response's
/// buffer, as the server does for every steer it pushes. The baseline copies a fixed frame of the same shape, the
/// least any SSE frame costs.
/// </summary>
[MemoryDiagnoser]
public class FrameWritingBenchmark
{
    private static readonly byte[] s_fixed = "event: command\ndata: {\"command_id\":\"cmd_01a228f178ab596e528b55c3d04d\"}\nid: 1\n\n"u8.ToArray();

    private readonly ArrayBufferWriter<byte> _output = new(64 * 1024);
    private CommandStreamFrame _frame = null!;

    [GlobalSetup]
    public void Setup()
    {
        _frame = new CommandStreamFrame.Command(new CommandView
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
        });
    }

    [Benchmark(Baseline = true)]
    public int FixedFrame()
    {
        _output.ResetWrittenCount();
        _output.Write(s_fixed);
        return _output.WrittenCount;
    }

    [Benchmark]
    public int CommandFrame()
    {
        _output.ResetWrittenCount();
        SseFrames.Write(_output, _frame);
        return _output.WrittenCount;
    }
}
