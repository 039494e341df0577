using EdgeOpt.Bench;

return args.FirstOrDefault() switch
{
    "io" => IoBenchmark.Run(args.Skip(1).ToArray()),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: EdgeOpt.Bench io [--out DIR] [--synthetic-mib N] [--runs N] [--model PATH]");
    return 1;
}
