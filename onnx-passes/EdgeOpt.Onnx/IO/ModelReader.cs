using Google.Protobuf;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Onnx.Proto;
using EdgeOpt.Onnx.Validation;
using Attribute = EdgeOpt.Onnx.Ir.Attribute;

namespace EdgeOpt.Onnx.IO;

/// <summary>
/// Loads ONNX models: parse → import into the IR (collecting every problem) → validate. Problems become one
/// <see cref="OnnxModelException"/> naming the file. The input file is only read.
/// </summary>
public static class ModelReader
{
    /// <summary>Reads a model file; external data is resolved inside the file's folder.</summary>
    public static Model Read(string path)
    {
        if (Directory.Exists(path)) throw new OnnxModelException(path, "is a folder, not an .onnx file");
        if (!File.Exists(path)) throw new OnnxModelException(path, "file not found");
        var full = Path.GetFullPath(path);
        using var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var model = Read(stream, path, Path.GetDirectoryName(full));
        model.SourcePath = full;
        return model;
    }

    /// <summary>Reads a model from a stream. <paramref name="modelDirectory"/> is needed only for external data.</summary>
    public static Model Read(Stream stream, string source = "<stream>", string? modelDirectory = null)
    {
        var proto = Parse(stream, source);
        return Import(proto, source, modelDirectory);
    }

    /// <summary>A deep copy of <paramref name="model"/> (serialized and read back, every tensor embedded).</summary>
    public static Model Copy(Model model)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var stream = new MemoryStream(ModelWriter.ToBytes(model), writable: false);
        var directory = model.SourcePath is { } path ? Path.GetDirectoryName(path) : null;
        return Read(stream, model.SourcePath ?? "<in-memory model>", directory);
    }

    /// <summary>Parses the protobuf only (no IR): used where the raw message is compared.</summary>
    internal static ModelProto Parse(Stream stream, string source)
    {
        ModelProto proto;
        try
        {
            proto = ModelProto.Parser.ParseFrom(stream);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new OnnxModelException(source, $"not an ONNX model: the protobuf cannot be parsed ({e.Message}). Is the file truncated, or not an .onnx file?", e);
        }
        if (proto.Graph == null || !proto.HasIrVersion)
        {
            var missing = proto.Graph == null ? "graph" : "ir_version";
            throw new OnnxModelException(source, $"not an ONNX model: it has no {missing}. Is this an .onnx file (and not, say, an .ort, .pb or text file)?");
        }
        return proto;
    }

    internal static Model Import(ModelProto proto, string source, string? modelDirectory)
    {
        var importer = new Importer(modelDirectory);
        var graph = importer.ImportMainGraph(proto.Graph);
        var model = new Model(graph)
        {
            IrVersion = proto.IrVersion,
            ProducerName = proto.ProducerName,
            ProducerVersion = proto.ProducerVersion,
            Domain = proto.Domain,
            ModelVersion = proto.ModelVersion,
            DocString = proto.DocString,
            LocalFunctions = [.. proto.Functions.Select(f => f.Name)],
        };
        model.Opsets.AddRange(proto.OpsetImport.Select(o => new OpsetId(o.Domain, o.Version)));
        model.Metadata.AddRange(proto.MetadataProps.Select(m => new KeyValuePair<string, string>(m.Key, m.Value)));
        proto.Graph = null;
        model.Template = proto;
        var problems = importer.Problems.Concat(ModelValidator.Validate(model)).Distinct().ToList();
        if (problems.Count > 0) throw new OnnxModelException(source, problems);
        return model;
    }

    private sealed class Importer(string? modelDirectory)
    {
        public List<ModelProblem> Problems { get; } = [];

        public Graph ImportMainGraph(GraphProto gp)
        {
            var g = new Graph(gp.Name);
            Fill(g, gp);
            return g;
        }

        private void Fill(Graph g, GraphProto gp)
        {
            g.DocString = gp.HasDocString ? gp.DocString : null;
            var where = ModelValidator.Where(g);
            foreach (var tp in gp.Initializer)
            {
                var v = Define(g, tp.Name, where, "initializer");
                v.Initializer = ImportTensor(tp, $"{where} / initializer '{tp.Name}'");
                g.AddInitializerValue(v);
            }
            foreach (var sp in gp.SparseInitializer)
            {
                var name = sp.Values?.Name ?? "";
                var v = Define(g, name, where, "sparse initializer");
                v.SparseInitializer = ImportSparse(sp, $"{where} / sparse initializer '{name}'");
                g.AddSparseInitializerValue(v);
            }
            foreach (var vi in gp.Input)
            {
                var v = g.FindLocalValue(vi.Name) ?? g.DefineValue(vi.Name);
                RecordInfo(g, GraphList.Input, v, vi);
                g.AddInputValue(v);
            }
            var nodes = new List<(Node Node, NodeProto Proto)>(gp.Node.Count);
            foreach (var np in gp.Node)
            {
                var node = g.CreateNode(np.OpType, np.Domain, np.Name);
                if (np.HasName) g.ClaimName(np.Name);
                foreach (var outName in np.Output)
                {
                    node.AddOutputSlot(outName.Length == 0 ? null : DefineOutput(g, outName, node));
                }
                nodes.Add((node, np));
                g.AppendNode(node);
            }
            foreach (var (node, np) in nodes)
            {
                foreach (var inName in np.Input) node.AddInput(inName.Length == 0 ? null : Resolve(g, inName, ModelValidator.Where(node)));
            }
            foreach (var (node, np) in nodes)
            {
                node.Overload = np.HasOverload ? np.Overload : null;
                node.DocString = np.HasDocString ? np.DocString : null;
                foreach (var ap in np.Attribute) node.SetAttribute(ImportAttribute(ap, node));
                np.Input.Clear();
                np.Output.Clear();
                np.Attribute.Clear();
                node.Template = np;
            }
            foreach (var vi in gp.Output)
            {
                var v = Resolve(g, vi.Name, where);
                RecordInfo(g, GraphList.Output, v, vi);
                g.AddOutput(v);
            }
            foreach (var vi in gp.ValueInfo)
            {
                var v = g.FindValue(vi.Name) ?? g.DefineValue(vi.Name);
                RecordInfo(g, GraphList.ValueInfo, v, vi);
                g.AddValueInfo(v);
            }
            gp.Node.Clear();
            gp.Initializer.Clear();
            gp.SparseInitializer.Clear();
            gp.Input.Clear();
            gp.Output.Clear();
            gp.ValueInfo.Clear();
            g.Template = gp;
        }

        private Value Define(Graph g, string name, string where, string what)
        {
            if (g.FindLocalValue(name) != null) Problems.Add(new(where, $"{what} '{name}' is defined twice"));
            return g.DefineValue(name);
        }

        private Value DefineOutput(Graph g, string name, Node node)
        {
            var existing = g.FindLocalValue(name);
            if (existing != null && (existing.Producer != null || existing.IsInitializer || existing.IsGraphInput))
            {
                Problems.Add(new(ModelValidator.Where(node), $"output '{name}' is already defined by {existing.Producer?.ToString() ?? "a graph input or initializer"}"));
                return new Value(g, name);
            }
            return existing ?? g.DefineValue(name);
        }

        private Value Resolve(Graph g, string name, string where)
        {
            var v = g.FindValue(name);
            if (v != null) return v;
            Problems.Add(new(where, $"'{name}' is not defined by any node, initializer or graph input in scope"));
            return g.DefineValue(name);
        }

        private static void RecordInfo(Graph g, GraphList list, Value v, ValueInfoProto vi)
        {
            g.InfoTemplates[(list, v)] = vi;
            if (vi.Type == null) return;
            if (v.Type?.Origin is { } known && known.Equals(vi.Type)) return;
            v.Type ??= TypeCodec.Decode(vi.Type);
        }

        private Attribute ImportAttribute(AttributeProto ap, Node node)
        {
            var kind = (AttributeKind)ap.Type;
            if (kind == AttributeKind.Undefined) kind = InferKind(ap);
            var where = $"{ModelValidator.Where(node)} / attribute '{ap.Name}'";
            object? value = kind switch
            {
                _ when ap.HasRefAttrName => null,
                AttributeKind.Float => ap.F,
                AttributeKind.Int => ap.I,
                AttributeKind.String => ap.S,
                AttributeKind.Tensor => ap.T == null ? null : ImportTensor(ap.T, where),
                AttributeKind.Graph => ap.G == null ? null : ImportSubgraph(ap.G, node),
                AttributeKind.SparseTensor => ap.SparseTensor == null ? null : ImportSparse(ap.SparseTensor, where),
                AttributeKind.TypeProto => ap.Tp == null ? null : TypeCodec.Decode(ap.Tp),
                AttributeKind.Floats => ap.Floats.ToArray(),
                AttributeKind.Ints => ap.Ints.ToArray(),
                AttributeKind.Strings => ap.Strings.ToArray(),
                AttributeKind.Tensors => ap.Tensors.Select(t => ImportTensor(t, where)).ToArray(),
                AttributeKind.Graphs => ap.Graphs.Select(sg => ImportSubgraph(sg, node)).ToArray(),
                AttributeKind.SparseTensors => ap.SparseTensors.Select(s => ImportSparse(s, where)).ToArray(),
                AttributeKind.TypeProtos => ap.TypeProtos.Select(TypeCodec.Decode).ToArray(),
                _ => null,
            };
            if (value == null && !ap.HasRefAttrName && kind is not (AttributeKind.Undefined))
            {
                Problems.Add(new(where, $"declares type {kind} but holds no such value"));
            }
            if (kind is AttributeKind.Graph or AttributeKind.Graphs)
            {
                ap.G = null;
                ap.Graphs.Clear();
            }
            return Attribute.Imported(ap.Name, kind, value, ap);
        }

        private static AttributeKind InferKind(AttributeProto ap)
        {
            if (ap.HasF) return AttributeKind.Float;
            if (ap.HasI) return AttributeKind.Int;
            if (ap.HasS) return AttributeKind.String;
            if (ap.T != null) return AttributeKind.Tensor;
            if (ap.G != null) return AttributeKind.Graph;
            if (ap.Floats.Count > 0) return AttributeKind.Floats;
            if (ap.Ints.Count > 0) return AttributeKind.Ints;
            if (ap.Strings.Count > 0) return AttributeKind.Strings;
            if (ap.Tensors.Count > 0) return AttributeKind.Tensors;
            if (ap.Graphs.Count > 0) return AttributeKind.Graphs;
            return AttributeKind.Undefined;
        }

        private Graph ImportSubgraph(GraphProto gp, Node owner)
        {
            var sub = owner.Graph.CreateSubgraph(gp.Name);
            sub.ParentNode = owner;
            Fill(sub, gp);
            return sub;
        }

        private SparseTensor ImportSparse(SparseTensorProto sp, string where)
        {
            var values = ImportTensor(sp.Values ?? new TensorProto(), where + " values");
            var indices = ImportTensor(sp.Indices ?? new TensorProto(), where + " indices");
            return new SparseTensor(values, indices, [.. sp.Dims]) { Origin = sp };
        }

        private Tensor ImportTensor(TensorProto tp, string where)
        {
            if (!TensorDataTypes.IsKnown(tp.DataType))
            {
                Problems.Add(new(where, $"unknown data type {tp.DataType}"));
                return Tensor.FromProtoUnchecked(tp);
            }
            var type = (TensorDataType)tp.DataType;
            long count = 1;
            foreach (var d in tp.Dims)
            {
                if (d < 0) Problems.Add(new(where, $"negative dimension {d}"));
                count *= Math.Max(d, 0);
            }
            ExternalDataRef? external = null;
            if (tp.DataLocation == TensorProto.Types.DataLocation.External)
            {
                try
                {
                    external = ExternalDataPaths.Parse(tp, modelDirectory, TensorDataTypes.RawByteCount(type, count));
                }
                catch (ArgumentException e)
                {
                    Problems.Add(new(where, e.Message));
                }
            }
            else if (TensorProtoCodec.StoredElementCount(tp, type) is { } stored && stored != count)
            {
                Problems.Add(new(where, $"dims [{string.Join(",", tp.Dims)}] need {count} elements of {TensorDataTypes.OnnxName(type)}, but the data holds {stored}"));
            }
            return Tensor.FromProto(tp, external);
        }
    }
}
