namespace Microsoft.Extensions.DependencyInjection;

/// <summary>The one <see cref="ISessionMeshBuilder"/>: a handle on the service collection.</summary>
internal sealed class SessionMeshBuilder(IServiceCollection services) : ISessionMeshBuilder
{
    public IServiceCollection Services { get; } = services;
}
