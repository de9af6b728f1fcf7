using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Foobar.MySql.Benchmarks.ReadRows).Assembly).Run(args);
