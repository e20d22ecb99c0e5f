using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/SessionMesh.MicroBench -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
