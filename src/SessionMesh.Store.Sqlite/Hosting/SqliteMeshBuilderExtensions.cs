using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using SessionMesh.Store;
using SessionMesh.Store.Sqlite;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Plugs the SQLite store into <c>services.AddSessionMesh()</c>.</summary>
public static class SqliteMeshBuilderExtensions
{
    /// <summary>
    /// Uses one SQLite file as the mesh's store. Resolving the store takes an exclusive lock on
    /// <c>&lt;database&gt;.lock</c>, held until the container is disposed, so a second process on the same file fails
    /// with <see cref="StoreLockedException"/> instead of migrating and sweeping under the first one's feet.
    /// </summary>
    /// <param name="builder">The builder <c>AddSessionMesh()</c> returned.</param>
    /// <param name="dataSource">
    /// A database file path (created with its directory when missing) or a SQLite connection string
    /// (<c>Data Source=...</c>); to read a <c>--store</c> setting, see <see cref="SqliteStoreSetting.ToDataSource"/>.
    /// </param>
    public static ISessionMeshBuilder UseSqlite(this ISessionMeshBuilder builder, string dataSource)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(dataSource);
        var services = builder.Services;
        services.TryAddSingleton(sp => new SqliteMeshStore(dataSource, sp.GetService<ILoggerFactory>()?.CreateLogger<SqliteMeshStore>()));
        services.TryAddSingleton(sp => StoreLock.Acquire(sp.GetRequiredService<SqliteMeshStore>().FilePath));
        services.TryAddSingleton<IMeshStore>(sp =>
        {
            // Held for the container's lifetime, released when it disposes the lock (before the store, made first).
            _ = sp.GetRequiredService<StoreLock>();
            return sp.GetRequiredService<SqliteMeshStore>();
        });
        return builder;
    }
}
