using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace SessionMesh.Store.Sqlite;

/// <summary>Process-wide settings of the SQLite library, applied once before the first connection opens.</summary>
internal static class SqliteLibrary
{
    private static readonly Lazy<bool> s_configured = new(Configure);

    /// <summary>Applies the settings; later calls do nothing.</summary>
    public static void EnsureConfigured() => _ = s_configured.Value;

    private static bool Configure()
    {
        // Loads the native library (Microsoft.Data.Sqlite's static constructor initialises SQLitePCL's provider).
        using (new SqliteConnection())
        {
        }
        // Memory statistics take a process-wide mutex on every allocation and free inside SQLite: a few percent of a
        // write's CPU, for figures nothing here reads (sqlite3_memory_used). Refused (SQLITE_MISUSE) once the library has
        // started, e.g. when another component of the process opened a database first: then it stays as it was.
        return raw.sqlite3_config(raw.SQLITE_CONFIG_MEMSTATUS, 0) == raw.SQLITE_OK;
    }
}
