// In the DI namespace, as YARP's IReverseProxyBuilder and the MCP SDK's IMcpServerBuilder are: the builder and its
// extensions are found from services.AddSessionMesh() without a using.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// What <see cref="SessionMeshServiceCollectionExtensions.AddSessionMesh"/> returns: the mesh's services are
/// registered, and a store project plugs its store in through an extension on this builder
/// (<c>UseSqlite(...)</c>).
/// </summary>
public interface ISessionMeshBuilder
{
    /// <summary>The service collection the mesh is registered in.</summary>
    IServiceCollection Services { get; }
}
