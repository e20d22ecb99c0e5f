using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using SessionMesh.Store;
using SessionMesh.Store.Postgres;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Plugs the PostgreSQL store into <c>services.AddSessionMesh()</c>.</summary>
public static class PostgresMeshBuilderExtensions
{
    /// <summary>
    /// Uses one PostgreSQL database as the mesh's store, shared with any other replica given the same database.
    /// </summary>
    /// <param name="builder">The builder <c>AddSessionMesh()</c> returned.</param>
    /// <param name="connectionString">An Npgsql connection string (<c>Host=...;Database=...;Username=...</c>).</param>
    public static ISessionMeshBuilder UsePostgres(this ISessionMeshBuilder builder, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var services = builder.Services;
        services.TryAddSingleton(sp => new PostgresMeshStore(connectionString, sp.GetService<ILoggerFactory>()?.CreateLogger<PostgresMeshStore>()));
        services.TryAddSingleton<IMeshStore>(sp => sp.GetRequiredService<PostgresMeshStore>());
        return builder;
    }
}
