using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Webhooks;

/// <summary>
/// A real webhook receiver for a test: Kestrel on a free loopback port, recording every POST it gets and answering what
/// <see cref="Respond"/> says (200 unless told otherwise; a handler may also hang until the sender gives up).
/// </summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedDelivery> _received = new();
    private readonly SemaphoreSlim _arrived = new(0);

    private WebhookReceiver(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    /// <summary>The URL to give the webhook.</summary>
    public Uri Url { get; }

    /// <summary>Answers a delivery (given with its 1-based number): the status to send. Replaceable at any time.</summary>
    public Func<ReceivedDelivery, int, CancellationToken, Task<int>> Respond { get; set; } = (_, _, _) => Task.FromResult(200);

    /// <summary>Every delivery received so far, in arrival order.</summary>
    public IReadOnlyList<ReceivedDelivery> Received => [.. _received];

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        WebhookReceiver? receiver = null;
        var count = 0;
        app.MapPost("/hook", async context =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
            var delivery = new ReceivedDelivery(
                context.Request.Headers["X-SessionMesh-Delivery"].ToString(),
                context.Request.Headers["X-SessionMesh-Event"].ToString(),
                context.Request.Headers["X-SessionMesh-Webhook"].ToString(),
                context.Request.Headers["X-SessionMesh-Timestamp"].ToString(),
                context.Request.Headers["X-SessionMesh-Signature"].ToString(),
                context.Request.ContentType,
                buffer.ToArray());
            var number = Interlocked.Increment(ref count);
            int status;
            try
            {
                status = await receiver!.Respond(delivery, number, context.RequestAborted);
            }
            finally
            {
                receiver!._received.Enqueue(delivery);
                receiver._arrived.Release();
            }
            context.Response.StatusCode = status;
        });
        await app.StartAsync(TestContext.Current.CancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver = new WebhookReceiver(app, new Uri(address + "/hook"));
        return receiver;
    }

    /// <summary>Waits (up to the test timeout) until the deliveries received satisfy <paramref name="condition"/>.</summary>
    public async Task<IReadOnlyList<ReceivedDelivery>> WaitForAsync(Func<IReadOnlyList<ReceivedDelivery>, bool> condition, string what)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TestTimeouts.Event);
        while (true)
        {
            var received = Received;
            if (condition(received))
            {
                return received;
            }
            try
            {
                await _arrived.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
            {
                Assert.Fail($"Timed out waiting for {what}; received: {string.Join(", ", Received.Select(d => $"{d.DeliveryId} {d.Event}"))}");
            }
        }
    }

    /// <summary>A handler that never answers: it waits until the sender gives up (or the receiver stops).</summary>
    public static async Task<int> HangAsync(CancellationToken aborted)
    {
        await Task.Delay(Timeout.Infinite, aborted).ContinueWith(_ => { }, TaskScheduler.Default);
        return 200;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }
}

/// <summary>One POST as the receiver got it.</summary>
internal sealed record ReceivedDelivery(string DeliveryId, string Event, string WebhookId, string Timestamp, string Signature, string? ContentType, byte[] Body)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;

    public long Revision => Json.GetProperty("revision").GetInt64();
}
