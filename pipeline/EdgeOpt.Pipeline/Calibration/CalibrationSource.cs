using System.Collections;
using System.Globalization;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Pipeline.Data;
using EdgeOpt.Pipeline.Data.Images;

namespace EdgeOpt.Pipeline.Calibration;

/// <summary>How a calibration data folder is laid out.</summary>
public enum CalibrationDataLayout
{
    /// <summary>ONNX test-data layout: <c>test_data_set_k/input_i.pb</c>, or <c>input_i.pb</c> for one sample.</summary>
    TestData,

    /// <summary>NumPy arrays named after the inputs: <c>k/&lt;input&gt;.npy</c> (a folder per sample), <c>&lt;input&gt;_k.npy</c>, or <c>&lt;input&gt;.npy</c>.</summary>
    Npy,

    /// <summary>PNG/PPM/PGM images turned into the single input by an <see cref="ImagePreprocess"/> spec.</summary>
    Images,
}

/// <summary>
/// Calibration samples read from a folder one at a time, so memory does not grow with the folder: the layout is
/// found and file names are matched to the model's inputs when the source is opened (cheap), tensors are read while
/// enumerating. Layouts (<see cref="CalibrationDataLayout"/>):
/// <list type="bullet">
/// <item>ONNX test data: <c>DIR/test_data_set_k/input_i.pb</c> (as <c>--data</c> and the ../shared data sets).</item>
/// <item>.npy: <c>DIR/&lt;sample&gt;/&lt;input&gt;.npy</c>, one subfolder per sample (any names, in ordinal order); or flat
/// <c>DIR/&lt;input&gt;_&lt;k&gt;.npy</c> (k = 0, 1, …, numeric order); or <c>DIR/&lt;input&gt;.npy</c> for one sample. In file
/// names, characters a file name cannot hold (<c>/ \ : * ? " &lt; &gt; |</c>) stand as <c>_</c>.</item>
/// <item>Images: <c>DIR/*.png|ppm|pgm</c> with an <see cref="ImagePreprocess"/> spec, for a model with one input.</item>
/// </list>
/// </summary>
public sealed class CalibrationSource : IEnumerable<Sample>
{
    private const string LayoutHelp =
        "expected test_data_set_0/input_0.pb … (ONNX test-data layout), .npy files named after the model's inputs " +
        "(<sample>/<input>.npy or <input>_<k>.npy), or PNG/PPM images with --image-preprocess";

    private readonly IReadOnlyList<Func<Sample>> _samples;

    private CalibrationSource(string directory, CalibrationDataLayout layout, IReadOnlyList<Func<Sample>> samples)
    {
        Directory = directory;
        Layout = layout;
        _samples = samples;
    }

    /// <summary>The folder the samples come from.</summary>
    public string Directory { get; }

    public CalibrationDataLayout Layout { get; }

    /// <summary>How many samples the folder holds.</summary>
    public int Count => _samples.Count;

    /// <summary>E.g. "4 samples (ONNX test data) in data/ocr_det".</summary>
    public string Description => $"{Count} sample{(Count == 1 ? "" : "s")} ({Layout switch
    {
        CalibrationDataLayout.TestData => "ONNX test data",
        CalibrationDataLayout.Npy => ".npy",
        _ => "images",
    }}) in {Directory}";

    /// <summary>Opens <paramref name="directory"/> for <paramref name="model"/>'s runtime inputs (graph inputs without an initializer).</summary>
    /// <inheritdoc cref="Open(string, IReadOnlyList{Value}, ImagePreprocess?)"/>
    public static CalibrationSource Open(string directory, Model model, ImagePreprocess? images = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Open(directory, [.. model.Graph.Inputs.Where(i => !i.IsInitializer)], images);
    }

    /// <summary>
    /// Finds the layout of <paramref name="directory"/> and matches its files to <paramref name="inputs"/>. With
    /// <paramref name="images"/> the folder must hold images; without, images are refused with the option to pass.
    /// </summary>
    /// <exception cref="ArgumentException">The folder is missing or empty, or its files do not match the inputs; the message says what to do.</exception>
    public static CalibrationSource Open(string directory, IReadOnlyList<Value> inputs, ImagePreprocess? images = null)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(inputs);
        if (!System.IO.Directory.Exists(directory)) throw new ArgumentException($"the calibration data folder '{directory}' does not exist");
        if (inputs.Count == 0) throw new ArgumentException("the model has no runtime inputs; there is nothing to feed calibration data to");
        if (images != null) return OpenImages(directory, inputs, images);
        if (System.IO.Directory.EnumerateDirectories(directory, "test_data_set_*").Any() || File.Exists(Path.Combine(directory, "input_0.pb")))
        {
            var folders = TestDataSets.Folders(directory);
            return new CalibrationSource(directory, CalibrationDataLayout.TestData,
                [.. folders.Select(f => (Func<Sample>)(() => TestDataSets.LoadSet(f, inputs, [])))]);
        }
        if (NpyLayout(directory, inputs) is { } npy) return new CalibrationSource(directory, CalibrationDataLayout.Npy, npy);
        if (ImageFiles.List(directory).Count > 0)
        {
            throw new ArgumentException($"'{directory}' holds images: pass --image-preprocess with how to turn them into input '{inputs[0].Name}' " +
                "(e.g. resize=320x320,scale=1/255,mean=0.485/0.456/0.406,std=0.229/0.224/0.225,layout=nchw,channels=rgb)");
        }
        throw new ArgumentException($"'{directory}' holds no calibration data: {LayoutHelp}");
    }

    public IEnumerator<Sample> GetEnumerator()
    {
        foreach (var load in _samples) yield return load();
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The stem a file holding input <paramref name="inputName"/> has: the name with characters file names cannot hold as '_'.</summary>
    public static string FileStem(string inputName)
    {
        var chars = inputName.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (chars[i] is '/' or '\\' or ':' or '*' or '?' or '"' or '<' or '>' or '|' || char.IsControl(chars[i])) chars[i] = '_';
        }
        return new string(chars);
    }

    private static CalibrationSource OpenImages(string directory, IReadOnlyList<Value> inputs, ImagePreprocess preprocess)
    {
        if (inputs.Count != 1)
        {
            throw new ArgumentException($"image calibration data needs a model with one input; this one has {inputs.Count} ({Names(inputs)}): " +
                "give .npy or test-data files with --calibration-data instead");
        }
        var input = inputs[0];
        var files = ImageFiles.List(directory);
        if (files.Count == 0) throw new ArgumentException($"'{directory}' holds no PNG, PPM or PGM images (needed with --image-preprocess)");
        var jpegs = files.Where(f => Path.GetExtension(f).ToLowerInvariant() is ".jpg" or ".jpeg").ToList();
        if (jpegs.Count > 0)
        {
            throw new ArgumentException($"{jpegs.Count} of the {files.Count} images in '{directory}' are JPEG (e.g. {Path.GetFileName(jpegs[0])}); EdgeOpt decodes PNG and " +
                "PPM/PGM only (no image library is available to it): convert them first, e.g. `mogrify -format png *.jpg`");
        }
        if (input.TensorType is { ElementType: not (TensorDataType.Float or TensorDataType.Float16) } t)
        {
            throw new ArgumentException($"input '{input.Name}' is {TensorDataTypes.OnnxName(t.ElementType)}; image preprocessing produces float tensors: give .npy or test-data files instead");
        }
        var spec = WithModelSize(preprocess, input);
        return new CalibrationSource(directory, CalibrationDataLayout.Images, [.. files.Select(f => (Func<Sample>)(() => LoadImage(f, input, spec)))]);
    }

    /// <summary>Without resize= in the spec, images are resized to the input's fixed height and width when it has them.</summary>
    private static ImagePreprocess WithModelSize(ImagePreprocess spec, Value input)
    {
        if (spec.Width != null || input.TensorType?.Shape is not { Count: 4 } shape) return spec;
        var (h, w) = spec.Layout == ImageLayout.Nchw ? (shape[2], shape[3]) : (shape[1], shape[2]);
        return h.Value is { } height && w.Value is { } width ? spec with { Width = (int)width, Height = (int)height } : spec;
    }

    private static Sample LoadImage(string file, Value input, ImagePreprocess spec)
    {
        var tensor = spec.Apply(ImageFiles.Read(file), input.Name);
        if (input.TensorType?.ElementType == TensorDataType.Float16)
        {
            tensor = Tensor.Create(input.Name, tensor.DimsArray(), Array.ConvertAll(tensor.ToSingles(), v => (Half)v));
        }
        try
        {
            TestDataSets.CheckFits(input, tensor, file);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{e.Message}: set resize=WIDTHxHEIGHT and layout=nchw|nhwc in --image-preprocess to match", e);
        }
        return new Sample(file, new Dictionary<string, Tensor>(StringComparer.Ordinal) { [input.Name] = tensor }, new Dictionary<string, Tensor>());
    }

    /// <summary>The .npy layout's samples, or null when the folder holds no .npy files.</summary>
    private static List<Func<Sample>>? NpyLayout(string directory, IReadOnlyList<Value> inputs)
    {
        var flat = System.IO.Directory.EnumerateFiles(directory, "*.npy").Order(StringComparer.Ordinal).ToList();
        if (flat.Count > 0) return FlatNpy(directory, flat, inputs);
        var folders = System.IO.Directory.EnumerateDirectories(directory)
            .Where(d => System.IO.Directory.EnumerateFiles(d, "*.npy").Any())
            .Order(StringComparer.Ordinal).ToList();
        if (folders.Count == 0) return null;
        return [.. folders.Select(folder => NpySample(folder, MatchFolder(folder, inputs), inputs))];
    }

    private static Dictionary<string, string> MatchFolder(string folder, IReadOnlyList<Value> inputs)
    {
        var files = System.IO.Directory.EnumerateFiles(folder, "*.npy").ToDictionary(f => Path.GetFileNameWithoutExtension(f), StringComparer.Ordinal);
        var byInput = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var input in inputs)
        {
            if (!files.Remove(FileStem(input.Name), out var file))
            {
                throw new ArgumentException($"'{folder}' has no {FileStem(input.Name)}.npy for input '{input.Name}'; every sample folder needs one .npy per input ({Names(inputs)})");
            }
            byInput[input.Name] = file;
        }
        if (files.Count > 0) throw Stray(files.Values.Order(StringComparer.Ordinal).First(), inputs);
        return byInput;
    }

    private static List<Func<Sample>> FlatNpy(string directory, List<string> files, IReadOnlyList<Value> inputs)
    {
        var stems = inputs.ToDictionary(i => FileStem(i.Name), i => i.Name, StringComparer.Ordinal);
        var groups = new SortedDictionary<long, Dictionary<string, string>>();
        var single = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var stem = Path.GetFileNameWithoutExtension(file);
            if (stems.TryGetValue(stem, out var exact))
            {
                single[exact] = file;
                continue;
            }
            var cut = stem.LastIndexOf('_');
            if (cut <= 0 || !long.TryParse(stem.AsSpan(cut + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var k) || !stems.TryGetValue(stem[..cut], out var input))
            {
                throw Stray(file, inputs);
            }
            if (!groups.TryGetValue(k, out var group)) groups[k] = group = new Dictionary<string, string>(StringComparer.Ordinal);
            group[input] = file;
        }
        if (single.Count > 0 && groups.Count > 0)
        {
            throw new ArgumentException($"'{directory}' mixes {Path.GetFileName(single.Values.First())} (one sample) with numbered files like " +
                $"{Path.GetFileName(groups.First().Value.Values.First())}: name every file <input>_<k>.npy, or use one subfolder per sample");
        }
        if (groups.Count == 0) groups[0] = single;
        var samples = new List<Func<Sample>>();
        foreach (var (k, group) in groups)
        {
            var missing = inputs.FirstOrDefault(i => !group.ContainsKey(i.Name));
            if (missing != null)
            {
                var expected = single.Count > 0 ? $"{FileStem(missing.Name)}.npy" : $"{FileStem(missing.Name)}_{k}.npy";
                throw new ArgumentException($"'{directory}' has no {expected} for input '{missing.Name}'; every sample needs one .npy per input ({Names(inputs)})");
            }
            samples.Add(NpySample(single.Count > 0 ? directory : $"{directory} #{k}", group, inputs));
        }
        return samples;
    }

    private static Func<Sample> NpySample(string source, Dictionary<string, string> files, IReadOnlyList<Value> inputs) => () =>
    {
        var feeds = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var input in inputs)
        {
            var file = files[input.Name];
            var tensor = NpyFiles.Read(file, input.Name);
            if (input.TensorType is { } t && t.ElementType != tensor.DataType)
            {
                throw new ArgumentException($"'{file}' holds {TensorDataTypes.OnnxName(tensor.DataType)} but input '{input.Name}' is {TensorDataTypes.OnnxName(t.ElementType)}: " +
                    $"save it with arr.astype(np.{NumpyName(t.ElementType)})");
            }
            TestDataSets.CheckFits(input, tensor, file);
            feeds[input.Name] = tensor;
        }
        return new Sample(source, feeds, new Dictionary<string, Tensor>());
    };

    private static ArgumentException Stray(string file, IReadOnlyList<Value> inputs) => new(
        $"'{file}' names no input of the model: name .npy files <input>.npy (one folder per sample) or <input>_<k>.npy; the inputs are {Names(inputs)}");

    private static string Names(IReadOnlyList<Value> inputs) => string.Join(", ", inputs.Select(i => $"'{i.Name}'"));

    private static string NumpyName(TensorDataType type) => type switch
    {
        TensorDataType.Float => "float32",
        TensorDataType.Double => "float64",
        TensorDataType.Float16 => "float16",
        TensorDataType.Bool => "bool_",
        _ => TensorDataTypes.OnnxName(type),
    };
}
