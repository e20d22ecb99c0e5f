using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using SessionMesh.Store;

namespace SessionMesh.Tests.Infrastructure;

/// <summary>Puts a wrapper around the server's real store, for <see cref="MeshTestServer.StartAsync"/>'s <c>configure</c>.</summary>
public static class StoreWrapper
{
    /// <summary>Replaces the registered store with <paramref name="wrap"/> applied to it.</summary>
    public static Action<WebApplicationBuilder> Around(Func<IMeshStore, IMeshStore> wrap) => builder =>
    {
        var original = builder.Services.Last(service => service.ServiceType == typeof(IMeshStore));
        builder.Services.Remove(original);
        builder.Services.AddSingleton(sp => wrap((IMeshStore)original.ImplementationFactory!(sp)));
    };
}
