using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Security;

/// <summary>The data directory and the files in it (database, WAL, shared memory, lock, root key) are the owner's alone.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class DataFilePermissionTests
{
    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Fact]
    public async Task A_new_data_directory_is_0700_and_every_file_in_it_0600()
    {
        using var temp = new TempDirectory();
        var dataDir = Path.Combine(temp.Path, "data");
        await using (var server = await MeshTestServer.StartAsync(dataDir: dataDir, rootKey: ""))
        {
            using var client = server.CreateClient();
            await client.JoinAsync("a");
            AssertOwnerOnly(dataDir);
        }
    }

    [Fact]
    public async Task A_data_directory_and_database_made_readable_by_others_are_tightened_at_start()
    {
        using var temp = new TempDirectory();
        var dataDir = Path.Combine(temp.Path, "data");
        await using (var first = await MeshTestServer.StartAsync(dataDir: dataDir, rootKey: ""))
        {
            using var client = first.CreateClient();
            await client.JoinAsync("a");
        }
        const UnixFileMode worldReadable = OwnerOnlyFile | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        File.SetUnixFileMode(dataDir, OwnerOnlyDirectory | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        foreach (var file in Directory.GetFiles(dataDir))
        {
            File.SetUnixFileMode(file, worldReadable);
        }

        await using var second = await MeshTestServer.StartAsync(dataDir: dataDir, rootKey: "");
        using var again = second.CreateClient(File.ReadAllText(Path.Combine(dataDir, "root.key")).Trim());
        await again.JoinAsync("b");
        AssertOwnerOnly(dataDir);
    }

    private static void AssertOwnerOnly(string dataDir)
    {
        Assert.Equal(OwnerOnlyDirectory, File.GetUnixFileMode(dataDir));
        var files = Directory.GetFiles(dataDir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Contains("session-mesh.db", files);
        Assert.Contains("session-mesh.db-wal", files);
        Assert.Contains("root.key", files);
        foreach (var file in Directory.GetFiles(dataDir))
        {
            Assert.True(File.GetUnixFileMode(file) == OwnerOnlyFile, $"{Path.GetFileName(file)} is {File.GetUnixFileMode(file)}");
        }
    }
}
