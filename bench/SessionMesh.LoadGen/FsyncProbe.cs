using System.Diagnostics;

namespace SessionMesh.LoadGen;

/// <summary>
/// What one fsync costs on the disk under the store: a 4 KB append then a flush to disk, as SQLite does to its
/// WAL on a <c>synchronous=FULL</c> commit. Bounded: a fixed number of rounds, in a file deleted afterwards.
/// </summary>
internal sealed record FsyncProbe(int Rounds, double P50Ms, double P99Ms)
{
    public static FsyncProbe Run(string directory, int rounds = 200)
    {
        var path = Path.Combine(directory, "fsync-probe.tmp");
        var block = new byte[4096];
        var samples = new double[rounds];
        try
        {
            using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1);
            for (var i = 0; i < rounds; i++)
            {
                var began = Stopwatch.GetTimestamp();
                file.Write(block);
                file.Flush(flushToDisk: true);
                samples[i] = Stopwatch.GetElapsedTime(began).TotalMilliseconds;
            }
        }
        finally
        {
            File.Delete(path);
        }
        Array.Sort(samples);
        return new FsyncProbe(rounds, samples[rounds / 2], samples[Math.Min(rounds - 1, (int)Math.Ceiling(rounds * 0.99) - 1)]);
    }
}
