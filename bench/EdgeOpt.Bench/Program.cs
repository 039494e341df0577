using EdgeOpt.Bench;

return args.FirstOrDefault() switch
{
    "io" => IoBenchmark.Run(args.Skip(1).ToArray()),
    "peer" => PeerBenchmark.Run(args.Skip(1).ToArray()),
    "soak" => SoakBenchmark.Run(args.Skip(1).ToArray()),
    "quant" => QuantBenchmark.Run(args.Skip(1).ToArray()),
    "factorize" => FactorizeBenchmark.Run(args.Skip(1).ToArray()),
    "ctc-text" => CtcText.Run(args.Skip(1).ToArray()),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: EdgeOpt.Bench io [--out DIR] [--synthetic-mib N] [--runs N] [--model PATH]\n" +
        "       EdgeOpt.Bench peer [--root DIR] [--runs N] [--warmup N] [--threads 1,2] [--out DIR]\n" +
        "       EdgeOpt.Bench soak [--model PATH] [--runs N]\n" +
        "       EdgeOpt.Bench quant [--root DIR] [--rounds N] [--seconds S] [--threads 1,2] [--models a,b] [--out DIR]\n" +
        "       EdgeOpt.Bench factorize [--layers N] [--rank-ratio F] [--parallelism N] [--power-iterations N]\n" +
        "       EdgeOpt.Bench ctc-text REFERENCE.onnx VARIANT.onnx… --data DIR [--keys ppocr_keys_v1.txt]");
    return 1;
}
