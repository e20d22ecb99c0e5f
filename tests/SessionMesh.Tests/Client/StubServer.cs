using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace SessionMesh.Tests.Client;

/// <summary>
/// A tiny real Kestrel server on a free loopback port whose every answer a test scripts, to drive the
/// client through failures the real mesh would not produce on demand (503s, 429s, dropped streams).
/// </summary>
internal sealed class StubServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _count;

    private StubServer(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public const string BodyKey = "stub.body";

    public Uri BaseAddress { get; }

    /// <summary>Every request received, in order.</summary>
    public ConcurrentQueue<Received> Requests { get; } = new();

    public int Count => Volatile.Read(ref _count);

    /// <summary>Starts a server; <paramref name="handler"/> gets each request and its 1-based number.</summary>
    public static async Task<StubServer> StartAsync(Func<HttpContext, int, Task> handler)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        StubServer? server = null;
        app.Run(async context =>
        {
            var number = Interlocked.Increment(ref server!._count);
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            server.Requests.Enqueue(new Received(
                context.Request.Method,
                context.Request.Path + context.Request.QueryString,
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                body));
            context.Items[BodyKey] = body;
            await handler(context, number);
        });
        await app.StartAsync(TestContext.Current.CancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server = new StubServer(app, new Uri(address + "/"));
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>The request body, already read by the server.</summary>
    public static string Body(HttpContext context) => (string)context.Items[BodyKey]!;

    public static Task Json(HttpContext context, int status, string json)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = status >= 400 ? "application/problem+json" : "application/json";
        return context.Response.WriteAsync(json);
    }

    public static Task Problem(HttpContext context, int status, string code, string detail) =>
        Json(context, status, $$"""{"status": {{status}}, "title": "Error", "detail": "{{detail}}", "code": "{{code}}"}""");

    /// <summary>Starts an SSE response and writes frames, flushing each.</summary>
    public static async Task SseAsync(HttpContext context, params string[] frames)
    {
        if (!context.Response.HasStarted)
        {
            context.Response.ContentType = "text/event-stream";
        }
        foreach (var frame in frames)
        {
            await context.Response.WriteAsync(frame);
            await context.Response.Body.FlushAsync();
        }
    }
}

internal sealed record Received(string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}
