using SessionMesh.LoadGen;

if (args is [StreamHost.Argument])
{
    return await StreamHost.RunAsync();
}

var options = LoadGenOptions.Parse(args, out var error);
if (options is null)
{
    if (string.IsNullOrEmpty(error))
    {
        Console.WriteLine(LoadGenOptions.Usage);
        return 0;
    }
    await Console.Error.WriteLineAsync($"loadgen: {error}");
    await Console.Error.WriteLineAsync(LoadGenOptions.Usage);
    return 2;
}

// The budget is a ceiling far above the run's own length: it only ends a run that hangs.
using var budget = new CancellationTokenSource(options.Budget);
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    budget.Cancel();
};
try
{
    var report = options.IsReplicas ? await ReplicaBench.RunAsync(options, budget.Token)
        : options.IsSoak ? await SoakBench.RunAsync(options, budget.Token)
        : options.IsScale ? await ScaleBench.RunAsync(options, budget.Token)
        : await Bench.RunAsync(options, budget.Token);
    Console.Write(report);
    return 0;
}
catch (OperationCanceledException) when (budget.IsCancellationRequested)
{
    await Console.Error.WriteLineAsync($"loadgen: stopped (interrupted, or over the {options.Budget.TotalSeconds:0} s budget).");
    return 1;
}
