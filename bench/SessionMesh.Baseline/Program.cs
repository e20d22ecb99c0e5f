using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using SessionMesh.Baseline;

// The load generator's baseline: bare Kestrel answering GET / with a fixed small JSON body, nothing else (no
// authentication, no store, no middleware); with --relay, also the steer path's floor (SteerRelay). Usage:
// SessionMesh.Baseline --port N [--relay] (0 picks a free port); it listens on 127.0.0.1 only and prints
// "baseline listening on http://127.0.0.1:PORT" once it accepts connections.
var relay = args is ["--port", _, "--relay"];
if (args is not ["--port", _] && !relay || !int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
{
    await Console.Error.WriteLineAsync("Usage: SessionMesh.Baseline --port N [--relay]   (0 picks a free port; listens on 127.0.0.1 only)");
    return 2;
}

var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));

var app = builder.Build();
// The same size and shape as the mesh's /healthz answer, written as bytes: no serializer in the baseline's path.
var body = """{"status":"ok"}"""u8.ToArray();
app.MapGet("/", (HttpContext context) =>
{
    context.Response.ContentType = "application/json";
    context.Response.ContentLength = body.Length;
    return context.Response.Body.WriteAsync(body, context.RequestAborted).AsTask();
});
if (relay)
{
    SteerRelay.Map(app);
}

await app.StartAsync();
var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
Console.WriteLine($"baseline listening on {address}");
await app.WaitForShutdownAsync();
return 0;
