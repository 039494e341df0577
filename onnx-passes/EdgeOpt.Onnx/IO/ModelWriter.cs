using Google.Protobuf;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Onnx.Proto;
using Attribute = EdgeOpt.Onnx.Ir.Attribute;

namespace EdgeOpt.Onnx.IO;

/// <summary>
/// Writes the IR back to ONNX. Everything read and left unchanged is written back as it was (unknown fields
/// included); output files appear atomically (temporary file, then move), external data first, model last.
/// </summary>
public static class ModelWriter
{
    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/>.</summary>
    public static WriteResult Write(Model model, string path, WriteOptions? options = null)
    {
        options ??= new WriteOptions();
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"the output folder '{dir}' does not exist");
        var threshold = options.ExternalDataThreshold;
        var auto = false;
        if (threshold == null && EmbeddedBytes(model, null) >= options.EmbeddedLimit)
        {
            threshold = 1024;
            auto = true;
        }
        if (EmbeddedBytes(model, threshold) >= options.EmbeddedLimit)
        {
            throw new InvalidOperationException("the embedded tensors pass protobuf's 2 GiB limit: set an external data threshold (e.g. --external-data-threshold 1024) so weights go to a separate file");
        }
        var dataName = options.ExternalDataFileName ?? Path.GetFileName(full) + ".data";
        var dataPath = ExternalDataPaths.Resolve(dir, dataName);
        RefuseOverwritingSources(model, dataPath, full);

        var dataTemp = AtomicFile.TempPathFor(dataPath);
        ExternalSink? sink = null;
        try
        {
            sink = new ExternalSink(dataTemp, dataName, threshold);
            var proto = ToProto(model, sink);
            sink.Close();
            if (sink.TensorCount > 0) File.Move(dataTemp, dataPath, overwrite: true);
            else AtomicFile.TryDelete(dataTemp);
            AtomicFile.Write(full, proto.WriteTo);
            return new WriteResult(full, new FileInfo(full).Length, sink.TensorCount > 0 ? dataPath : null,
                sink.TensorCount > 0 ? sink.Length : 0, sink.TensorCount, auto);
        }
        catch
        {
            sink?.Close();
            AtomicFile.TryDelete(dataTemp);
            throw;
        }
    }

    /// <summary>The model as serialized bytes, every tensor embedded.</summary>
    public static byte[] ToBytes(Model model) => ToProto(model, null).ToByteArray();

    /// <summary>Writes the model to a stream, every tensor embedded.</summary>
    public static void Write(Model model, Stream stream) => ToProto(model, null).WriteTo(stream);

    internal static ModelProto ToProto(Model model, ExternalSink? sink) => new Emitter(sink).Model(model);

    /// <summary>Bytes that would be embedded under <paramref name="threshold"/> (null: tensors stay where they are).</summary>
    private static long EmbeddedBytes(Model model, long? threshold)
    {
        long total = 0;
        foreach (var t in AllTensors(model))
        {
            var external = threshold.HasValue ? t.ByteCount >= threshold : t.External != null;
            if (!external) total += t.ByteCount;
        }
        return total;
    }

    private static IEnumerable<Tensor> AllTensors(Model model) =>
        model.Graph.SelfAndDescendants().SelectMany(g => g.Initializers.Select(v => v.Initializer!)
            .Concat(g.Nodes.SelectMany(n => n.Attributes).Where(a => a.Kind == AttributeKind.Tensor).Select(a => a.AsTensor())));

    private static void RefuseOverwritingSources(Model model, string dataPath, string modelPath)
    {
        if (model.SourcePath != null && string.Equals(model.SourcePath, modelPath, StringComparison.Ordinal))
        {
            throw new IOException($"refusing to overwrite the input model '{modelPath}': write the result to another path");
        }
        foreach (var t in AllTensors(model))
        {
            if (t.External != null && string.Equals(t.External.FullPath, dataPath, StringComparison.Ordinal))
            {
                throw new IOException($"the external data file '{dataPath}' is where this model's weights are read from: write to another folder or pass another external data file name");
            }
        }
    }

    /// <summary>Builds protos from the IR, reusing the protos read wherever nothing changed.</summary>
    private sealed class Emitter(ExternalSink? sink)
    {
        public ModelProto Model(Model m)
        {
            var p = m.Template?.Clone() ?? new ModelProto();
            if (!p.HasIrVersion || p.IrVersion != m.IrVersion) p.IrVersion = m.IrVersion;
            SetIfChanged(p.HasProducerName, p.ProducerName, m.ProducerName, v => p.ProducerName = v);
            SetIfChanged(p.HasProducerVersion, p.ProducerVersion, m.ProducerVersion, v => p.ProducerVersion = v);
            SetIfChanged(p.HasDomain, p.Domain, m.Domain, v => p.Domain = v);
            SetIfChanged(p.HasDocString, p.DocString, m.DocString, v => p.DocString = v);
            if (p.ModelVersion != m.ModelVersion) p.ModelVersion = m.ModelVersion;
            if (!p.OpsetImport.Select(o => new OpsetId(o.Domain, o.Version)).SequenceEqual(m.Opsets))
            {
                p.OpsetImport.Clear();
                p.OpsetImport.AddRange(m.Opsets.Select(o => new OperatorSetIdProto { Domain = o.Domain, Version = o.Version }));
            }
            if (!p.MetadataProps.Select(e => new KeyValuePair<string, string>(e.Key, e.Value)).SequenceEqual(m.Metadata))
            {
                p.MetadataProps.Clear();
                p.MetadataProps.AddRange(m.Metadata.Select(e => new StringStringEntryProto { Key = e.Key, Value = e.Value }));
            }
            p.Graph = Graph(m.Graph);
            return p;
        }

        private GraphProto Graph(Graph g)
        {
            var p = g.Template?.Clone() ?? new GraphProto();
            SetIfChanged(p.HasName, p.Name, g.Name, v => p.Name = v);
            if (g.DocString != (p.HasDocString ? p.DocString : null))
            {
                if (g.DocString == null) p.ClearDocString();
                else p.DocString = g.DocString;
            }
            foreach (var n in g.Nodes) p.Node.Add(Node(n));
            foreach (var v in g.Initializers) p.Initializer.Add(Tensor(v.Initializer!, v.Name));
            foreach (var v in g.SparseInitializers) p.SparseInitializer.Add(Sparse(v.SparseInitializer!));
            foreach (var v in g.Inputs) p.Input.Add(ValueInfo(g, GraphList.Input, v));
            foreach (var v in g.Outputs) p.Output.Add(ValueInfo(g, GraphList.Output, v));
            foreach (var v in g.ValueInfos) p.ValueInfo.Add(ValueInfo(g, GraphList.ValueInfo, v));
            return p;
        }

        private NodeProto Node(Node n)
        {
            var p = n.Template?.Clone() ?? new NodeProto();
            p.Input.AddRange(n.Inputs.Select(v => v?.Name ?? ""));
            p.Output.AddRange(n.Outputs.Select(v => v?.Name ?? ""));
            SetIfChanged(p.HasName, p.Name, n.Name, v => p.Name = v);
            SetIfChanged(p.HasOpType, p.OpType, n.OpType, v => p.OpType = v);
            SetIfChanged(p.HasDomain, p.Domain, n.Domain, v => p.Domain = v);
            if (n.Overload != (p.HasOverload ? p.Overload : null))
            {
                if (n.Overload == null) p.ClearOverload();
                else p.Overload = n.Overload;
            }
            if (n.DocString != (p.HasDocString ? p.DocString : null))
            {
                if (n.DocString == null) p.ClearDocString();
                else p.DocString = n.DocString;
            }
            foreach (var a in n.Attributes) p.Attribute.Add(Attribute(a));
            return p;
        }

        private AttributeProto Attribute(Attribute a)
        {
            if (a.Origin != null && a.Kind is not (AttributeKind.Graph or AttributeKind.Graphs or AttributeKind.Tensor or AttributeKind.Tensors))
            {
                return a.Origin;
            }
            var p = a.Origin?.Clone() ?? new AttributeProto { Name = a.Name, Type = (AttributeProto.Types.AttributeType)a.Kind };
            if (a.RefAttrName != null)
            {
                p.RefAttrName = a.RefAttrName;
                return p;
            }
            switch (a.Kind)
            {
                case AttributeKind.Graph: p.G = Graph(a.AsGraph()); break;
                case AttributeKind.Graphs: p.Graphs.AddRange(a.AsGraphs().Select(Graph)); break;
                case AttributeKind.Tensor: p.T = Tensor(a.AsTensor(), a.AsTensor().Name); break;
                case AttributeKind.Tensors:
                    p.Tensors.Clear();
                    p.Tensors.AddRange(a.AsTensors().Select(t => Tensor(t, t.Name)));
                    break;
                case AttributeKind.Float: p.F = a.AsFloat(); break;
                case AttributeKind.Int: p.I = a.AsInt(); break;
                case AttributeKind.String: p.S = a.AsBytes(); break;
                case AttributeKind.Floats: p.Floats.AddRange(a.AsFloats()); break;
                case AttributeKind.Ints: p.Ints.AddRange(a.AsInts()); break;
                case AttributeKind.Strings: p.Strings.AddRange(a.AsByteStrings()); break;
                case AttributeKind.SparseTensor: p.SparseTensor = Sparse(a.AsSparseTensor()); break;
                case AttributeKind.SparseTensors: p.SparseTensors.AddRange(a.AsSparseTensors().Select(Sparse)); break;
                case AttributeKind.TypeProto: p.Tp = TypeCodec.Encode(a.AsType()); break;
                case AttributeKind.TypeProtos: p.TypeProtos.AddRange(a.AsTypes().Select(TypeCodec.Encode)); break;
            }
            return p;
        }

        private SparseTensorProto Sparse(SparseTensor s)
        {
            if (s.Origin != null) return s.Origin;
            var p = new SparseTensorProto { Values = Tensor(s.Values, s.Values.Name), Indices = Tensor(s.Indices, s.Indices.Name) };
            p.Dims.AddRange(s.Dims);
            return p;
        }

        private TensorProto Tensor(Tensor t, string name)
        {
            var goesExternal = sink != null && t.DataType != TensorDataType.String && sink.WantsExternal(t);
            if (!goesExternal)
            {
                if (t.Origin != null && t.External == null && t.Origin.Name == name) return t.Origin;
                if (t.Origin != null && t.External == null)
                {
                    var renamed = t.Origin.Clone();
                    renamed.Name = name;
                    return renamed;
                }
                var embedded = TensorProtoCodec.Embed(t, name);
                if (t.Origin?.HasDocString == true) embedded.DocString = t.Origin.DocString;
                return embedded;
            }
            var (offset, length) = sink!.Append(t);
            var p = new TensorProto { Name = name, DataType = (int)t.DataType, DataLocation = TensorProto.Types.DataLocation.External };
            p.Dims.AddRange(t.Dims);
            if (t.Origin?.HasDocString == true) p.DocString = t.Origin.DocString;
            p.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = sink.Location });
            p.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            p.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = length.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            return p;
        }

        private static ValueInfoProto ValueInfo(Graph g, GraphList list, Value v)
        {
            g.InfoTemplates.TryGetValue((list, v), out var template);
            if (template != null && template.Name == v.Name && SameType(template.Type, v.Type)) return template;
            var p = new ValueInfoProto { Name = v.Name };
            if (template?.HasDocString == true) p.DocString = template.DocString;
            if (template != null) p.MetadataProps.AddRange(template.MetadataProps);
            if (v.Type != null) p.Type = TypeCodec.Encode(v.Type);
            return p;
        }

        private static bool SameType(TypeProto? written, Ir.ValueType? current) =>
            written == null ? current == null : current?.Origin != null && (ReferenceEquals(current.Origin, written) || current.Origin.Equals(written));

        private static void SetIfChanged(bool has, string protoValue, string value, Action<string> set)
        {
            if ((has ? protoValue : "") != value || (!has && value.Length > 0)) set(value);
        }
    }
}
