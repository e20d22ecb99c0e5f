using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Primitives;
using SessionMesh.Server.Hosting;

namespace SessionMesh.Tests.Server;

/// <summary>
/// The server builds its endpoints once at start, each source standing behind a <see cref="BuiltEndpointDataSource"/>:
/// a fixed source is never built again, and a source that changes at run time is still seen as it changes.
/// </summary>
public sealed class BuiltEndpointDataSourceTests
{
    [Fact]
    public async Task A_mapped_route_is_built_once_when_the_source_is_made_and_never_again()
    {
        await using var app = WebApplication.CreateSlimBuilder().Build();
        app.MapGet("/one", () => "one");
        app.MapPost("/two", () => "two");
        var mapped = Assert.Single(((IEndpointRouteBuilder)app).DataSources);
        // A mapping source builds new endpoints each time it is asked.
        Assert.NotSame(mapped.Endpoints[0], mapped.Endpoints[0]);

        var built = new BuiltEndpointDataSource(mapped);

        var first = built.Endpoints;
        Assert.Equal(["HTTP: GET /one", "HTTP: POST /two"], first.Select(e => e.DisplayName));
        Assert.Same(first, built.Endpoints);
        Assert.False(built.GetChangeToken().HasChanged);
    }

    [Fact]
    public void A_source_that_changes_is_read_again_after_its_token_fires_and_only_then()
    {
        using var source = new ChangingSource(Named("first"));
        var built = new BuiltEndpointDataSource(source);
        Assert.Equal(1, source.Reads);

        Assert.Equal(["first"], built.Endpoints.Select(e => e.DisplayName));
        Assert.Equal(["first"], built.Endpoints.Select(e => e.DisplayName));
        Assert.Equal(1, source.Reads);

        var token = built.GetChangeToken();
        var told = false;
        using var subscription = token.RegisterChangeCallback(_ => told = true, null);
        source.Replace(Named("second"), Named("third"));

        Assert.True(told);
        Assert.Equal(["second", "third"], built.Endpoints.Select(e => e.DisplayName));
        Assert.Equal(2, source.Reads);
        Assert.Equal(["second", "third"], built.Endpoints.Select(e => e.DisplayName));
        Assert.Equal(2, source.Reads);
    }

    private static Endpoint Named(string name) => new(null, EndpointMetadataCollection.Empty, name);

    /// <summary>A source whose endpoints change at run time, as a plug-in's might: its token fires on each change.</summary>
    private sealed class ChangingSource(params Endpoint[] endpoints) : EndpointDataSource, IDisposable
    {
        private IReadOnlyList<Endpoint> _endpoints = endpoints;
        private CancellationTokenSource _changed = new();

        public int Reads { get; private set; }

        public override IReadOnlyList<Endpoint> Endpoints
        {
            get
            {
                Reads++;
                return _endpoints;
            }
        }

        public override IChangeToken GetChangeToken() => new CancellationChangeToken(_changed.Token);

        public void Replace(params Endpoint[] endpoints)
        {
            _endpoints = endpoints;
            using var fired = _changed;
            _changed = new CancellationTokenSource();
            fired.Cancel();
        }

        public void Dispose() => _changed.Dispose();
    }
}
