using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Primitives;

namespace SessionMesh.Server.Hosting;

/// <summary>
/// An endpoint source that stands for another and builds its endpoints once, when made (at start, beside the store's
/// work), then again only after the other's change token has fired. ASP.NET Core's mapping sources build their
/// endpoints anew each time they are asked (reflection, compiled request delegates, their JIT: ~0.2 s here), and the
/// routing middleware first asks at the first request, after the server said it was listening. A source that never
/// changes (every one the mesh maps: their tokens never fire) is built exactly once; one that does change (endpoints
/// added at run time) is still seen as it changes.
/// </summary>
internal sealed class BuiltEndpointDataSource : EndpointDataSource
{
    private readonly EndpointDataSource _source;
    private Built _built;

    public BuiltEndpointDataSource(EndpointDataSource source)
    {
        _source = source;
        _built = Build();
    }

    /// <inheritdoc />
    public override IReadOnlyList<Endpoint> Endpoints
    {
        get
        {
            var built = Volatile.Read(ref _built);
            if (built.Token.HasChanged)
            {
                built = Build();
                Volatile.Write(ref _built, built);
            }
            return built.Endpoints;
        }
    }

    /// <inheritdoc />
    public override IChangeToken GetChangeToken() => _source.GetChangeToken();

    /// <inheritdoc />
    public override IReadOnlyList<Endpoint> GetGroupedEndpoints(RouteGroupContext context) => _source.GetGroupedEndpoints(context);

    // The token is taken before the endpoints are read: a change made in between fires it, and the next read builds again.
    private Built Build()
    {
        var token = _source.GetChangeToken();
        return new Built(token, _source.Endpoints);
    }

    private sealed record Built(IChangeToken Token, IReadOnlyList<Endpoint> Endpoints);
}
