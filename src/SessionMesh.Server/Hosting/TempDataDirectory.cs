namespace SessionMesh.Server.Hosting;

/// <summary>Throwaway data directories under the machine's temp directory: the sandbox's, a local server's, a test's.</summary>
internal static class TempDataDirectory
{
    /// <summary>Creates a fresh directory named <c>session-mesh-&lt;purpose&gt;-&lt;random&gt;</c>, so a leftover shows whose it was.</summary>
    public static string Create(string purpose) => Directory.CreateTempSubdirectory($"session-mesh-{purpose}-").FullName;

    /// <summary>Deletes the directory and everything in it, as far as it can; safe to call more than once.</summary>
    public static void Delete(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A file still held open on some platform; the OS cleans its temp directory eventually.
        }
    }
}
