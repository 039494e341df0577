using System.Runtime.InteropServices;

namespace EdgeOpt.Runtime.Native;

/// <summary>
/// The functions of ONNX Runtime's <c>OrtApi</c> table that this binding calls, read once at the positions given by
/// <see cref="OrtApiSlots"/>. Pointers to native objects are <see cref="nint"/>; strings are UTF-8, null-terminated.
/// Every function returning an <c>OrtStatus*</c> goes through <see cref="Check"/>.
/// </summary>
internal sealed unsafe class OrtApi
{
    public readonly delegate* unmanaged[Cdecl]<int, byte*, nint> CreateStatus;
    public readonly delegate* unmanaged[Cdecl]<nint, int> GetErrorCode;
    public readonly delegate* unmanaged[Cdecl]<nint, byte*> GetErrorMessage;
    public readonly delegate* unmanaged[Cdecl]<int, byte*, nint*, nint> CreateEnv;
    public readonly delegate* unmanaged[Cdecl]<nint, void*, nint, nint*, nint> CreateSession;
    public readonly delegate* unmanaged[Cdecl]<nint, void*, nuint, nint, nint*, nint> CreateSessionFromArray;
    public readonly delegate* unmanaged[Cdecl]<nint, nint, byte**, nint*, nuint, byte**, nuint, nint*, nint> Run;
    public readonly delegate* unmanaged[Cdecl]<nint*, nint> CreateSessionOptions;
    public readonly delegate* unmanaged[Cdecl]<nint, void*, nint> SetOptimizedModelFilePath;
    public readonly delegate* unmanaged[Cdecl]<nint, int, nint> SetSessionExecutionMode;
    public readonly delegate* unmanaged[Cdecl]<nint, void*, nint> EnableProfiling;
    public readonly delegate* unmanaged[Cdecl]<nint, nint> DisableProfiling;
    public readonly delegate* unmanaged[Cdecl]<nint, nint> EnableCpuMemArena;
    public readonly delegate* unmanaged[Cdecl]<nint, nint> DisableCpuMemArena;
    public readonly delegate* unmanaged[Cdecl]<nint, int, nint> SetSessionLogSeverityLevel;
    public readonly delegate* unmanaged[Cdecl]<nint, int, nint> SetSessionGraphOptimizationLevel;
    public readonly delegate* unmanaged[Cdecl]<nint, int, nint> SetIntraOpNumThreads;
    public readonly delegate* unmanaged[Cdecl]<nint, int, nint> SetInterOpNumThreads;
    public readonly delegate* unmanaged[Cdecl]<nint, nuint*, nint> SessionGetInputCount;
    public readonly delegate* unmanaged[Cdecl]<nint, nuint*, nint> SessionGetOutputCount;
    public readonly delegate* unmanaged[Cdecl]<nint, nuint, nint*, nint> SessionGetInputTypeInfo;
    public readonly delegate* unmanaged[Cdecl]<nint, nuint, nint*, nint> SessionGetOutputTypeInfo;
    public readonly delegate* unmanaged[Cdecl]<nint, nuint, nint, byte**, nint> SessionGetInputName;
    public readonly delegate* unmanaged[Cdecl]<nint, nuint, nint, byte**, nint> SessionGetOutputName;
    public readonly delegate* unmanaged[Cdecl]<nint*, nint> CreateRunOptions;
    public readonly delegate* unmanaged[Cdecl]<nint, int, nint> RunOptionsSetRunLogSeverityLevel;
    public readonly delegate* unmanaged[Cdecl]<nint, byte*, nint> RunOptionsSetRunTag;
    public readonly delegate* unmanaged[Cdecl]<nint, nint> RunOptionsSetTerminate;
    public readonly delegate* unmanaged[Cdecl]<nint, nint> RunOptionsUnsetTerminate;
    public readonly delegate* unmanaged[Cdecl]<nint, long*, nuint, int, nint*, nint> CreateTensorAsOrtValue;
    public readonly delegate* unmanaged[Cdecl]<nint, void*, nuint, long*, nuint, int, nint*, nint> CreateTensorWithDataAsOrtValue;
    public readonly delegate* unmanaged[Cdecl]<nint, void**, nint> GetTensorMutableData;
    public readonly delegate* unmanaged[Cdecl]<nint, byte**, nuint, nint> FillStringTensor;
    public readonly delegate* unmanaged[Cdecl]<nint, nuint*, nint> GetStringTensorDataLength;
    public readonly delegate* unmanaged[Cdecl]<nint, void*, nuint, nuint*, nuint, nint> GetStringTensorContent;
    public readonly delegate* unmanaged[Cdecl]<nint, nint*, nint> CastTypeInfoToTensorInfo;
    public readonly delegate* unmanaged[Cdecl]<nint, int*, nint> GetOnnxTypeFromTypeInfo;
    public readonly delegate* unmanaged[Cdecl]<nint, int*, nint> GetTensorElementType;
    public readonly delegate* unmanaged[Cdecl]<nint, nuint*, nint> GetDimensionsCount;
    public readonly delegate* unmanaged[Cdecl]<nint, long*, nuint, nint> GetDimensions;
    public readonly delegate* unmanaged[Cdecl]<nint, byte**, nuint, nint> GetSymbolicDimensions;
    public readonly delegate* unmanaged[Cdecl]<nint, nuint*, nint> GetTensorShapeElementCount;
    public readonly delegate* unmanaged[Cdecl]<nint, nint*, nint> GetTensorTypeAndShape;
    public readonly delegate* unmanaged[Cdecl]<nint, int*, nint> GetValueType;
    public readonly delegate* unmanaged[Cdecl]<int, int, nint*, nint> CreateCpuMemoryInfo;
    public readonly delegate* unmanaged[Cdecl]<nint, void*, nint> AllocatorFree;
    public readonly delegate* unmanaged[Cdecl]<nint*, nint> GetAllocatorWithDefaultOptions;
    public readonly delegate* unmanaged[Cdecl]<nint, byte*, long, nint> AddFreeDimensionOverride;
    public readonly delegate* unmanaged[Cdecl]<nint, void> ReleaseEnv;
    public readonly delegate* unmanaged[Cdecl]<nint, void> ReleaseStatus;
    public readonly delegate* unmanaged[Cdecl]<nint, void> ReleaseMemoryInfo;
    public readonly delegate* unmanaged[Cdecl]<nint, void> ReleaseSession;
    public readonly delegate* unmanaged[Cdecl]<nint, void> ReleaseValue;
    public readonly delegate* unmanaged[Cdecl]<nint, void> ReleaseRunOptions;
    public readonly delegate* unmanaged[Cdecl]<nint, void> ReleaseTypeInfo;
    public readonly delegate* unmanaged[Cdecl]<nint, void> ReleaseTensorTypeAndShapeInfo;
    public readonly delegate* unmanaged[Cdecl]<nint, void> ReleaseSessionOptions;
    public readonly delegate* unmanaged[Cdecl]<nint, nint, byte**, nint> SessionEndProfiling;
    public readonly delegate* unmanaged[Cdecl]<nint, nint*, nint> SessionGetModelMetadata;
    public readonly delegate* unmanaged[Cdecl]<nint, nint, byte**, nint> ModelMetadataGetProducerName;
    public readonly delegate* unmanaged[Cdecl]<nint, nint, byte**, nint> ModelMetadataGetGraphName;
    public readonly delegate* unmanaged[Cdecl]<nint, nint, byte**, nint> ModelMetadataGetDomain;
    public readonly delegate* unmanaged[Cdecl]<nint, nint, byte**, nint> ModelMetadataGetDescription;
    public readonly delegate* unmanaged[Cdecl]<nint, long*, nint> ModelMetadataGetVersion;
    public readonly delegate* unmanaged[Cdecl]<nint, void> ReleaseModelMetadata;
    public readonly delegate* unmanaged[Cdecl]<nint, byte*, long, nint> AddFreeDimensionOverrideByName;
    public readonly delegate* unmanaged[Cdecl]<byte***, int*, nint> GetAvailableProviders;
    public readonly delegate* unmanaged[Cdecl]<byte**, int, nint> ReleaseAvailableProviders;
    public readonly delegate* unmanaged[Cdecl]<nint, byte*, byte*, nint> AddSessionConfigEntry;
    public readonly delegate* unmanaged[Cdecl]<nint, nint, nint, nint> RunWithBinding;
    public readonly delegate* unmanaged[Cdecl]<nint, nint*, nint> CreateIoBinding;
    public readonly delegate* unmanaged[Cdecl]<nint, void> ReleaseIoBinding;
    public readonly delegate* unmanaged[Cdecl]<nint, byte*, nint, nint> BindInput;
    public readonly delegate* unmanaged[Cdecl]<nint, byte*, nint, nint> BindOutput;
    public readonly delegate* unmanaged[Cdecl]<nint, byte*, nint, nint> BindOutputToDevice;
    public readonly delegate* unmanaged[Cdecl]<nint, nint, byte**, nuint**, nuint*, nint> GetBoundOutputNames;
    public readonly delegate* unmanaged[Cdecl]<nint, nint, nint**, nuint*, nint> GetBoundOutputValues;
    public readonly delegate* unmanaged[Cdecl]<nint, void> ClearBoundInputs;
    public readonly delegate* unmanaged[Cdecl]<nint, void> ClearBoundOutputs;
    public readonly delegate* unmanaged[Cdecl]<nint, byte*, byte*, nint> AddRunConfigEntry;
    public readonly delegate* unmanaged[Cdecl]<nint, nint, nint> SessionOptionsAppendExecutionProvider_TensorRT_V2;
    public readonly delegate* unmanaged[Cdecl]<nint*, nint> CreateTensorRTProviderOptions;
    public readonly delegate* unmanaged[Cdecl]<nint, byte**, byte**, nuint, nint> UpdateTensorRTProviderOptions;
    public readonly delegate* unmanaged[Cdecl]<nint, void> ReleaseTensorRTProviderOptions;
    public readonly delegate* unmanaged[Cdecl]<nint, nint, nint> SessionOptionsAppendExecutionProvider_CUDA_V2;
    public readonly delegate* unmanaged[Cdecl]<nint*, nint> CreateCUDAProviderOptions;
    public readonly delegate* unmanaged[Cdecl]<nint, byte**, byte**, nuint, nint> UpdateCUDAProviderOptions;
    public readonly delegate* unmanaged[Cdecl]<nint, void> ReleaseCUDAProviderOptions;
    public readonly delegate* unmanaged[Cdecl]<nint, byte*, byte**, byte**, nuint, nint> SessionOptionsAppendExecutionProvider;
    public readonly delegate* unmanaged[Cdecl]<nint, int, nint> UpdateEnvWithCustomLogLevel;

    /// <summary>Reads the table at <paramref name="table"/> (an <c>OrtApi*</c> from <c>GetApi</c>).</summary>
    public OrtApi(nint table)
    {
        var t = (nint*)table;
        CreateStatus = (delegate* unmanaged[Cdecl]<int, byte*, nint>)t[OrtApiSlots.CreateStatus];
        GetErrorCode = (delegate* unmanaged[Cdecl]<nint, int>)t[OrtApiSlots.GetErrorCode];
        GetErrorMessage = (delegate* unmanaged[Cdecl]<nint, byte*>)t[OrtApiSlots.GetErrorMessage];
        CreateEnv = (delegate* unmanaged[Cdecl]<int, byte*, nint*, nint>)t[OrtApiSlots.CreateEnv];
        CreateSession = (delegate* unmanaged[Cdecl]<nint, void*, nint, nint*, nint>)t[OrtApiSlots.CreateSession];
        CreateSessionFromArray = (delegate* unmanaged[Cdecl]<nint, void*, nuint, nint, nint*, nint>)t[OrtApiSlots.CreateSessionFromArray];
        Run = (delegate* unmanaged[Cdecl]<nint, nint, byte**, nint*, nuint, byte**, nuint, nint*, nint>)t[OrtApiSlots.Run];
        CreateSessionOptions = (delegate* unmanaged[Cdecl]<nint*, nint>)t[OrtApiSlots.CreateSessionOptions];
        SetOptimizedModelFilePath = (delegate* unmanaged[Cdecl]<nint, void*, nint>)t[OrtApiSlots.SetOptimizedModelFilePath];
        SetSessionExecutionMode = (delegate* unmanaged[Cdecl]<nint, int, nint>)t[OrtApiSlots.SetSessionExecutionMode];
        EnableProfiling = (delegate* unmanaged[Cdecl]<nint, void*, nint>)t[OrtApiSlots.EnableProfiling];
        DisableProfiling = (delegate* unmanaged[Cdecl]<nint, nint>)t[OrtApiSlots.DisableProfiling];
        EnableCpuMemArena = (delegate* unmanaged[Cdecl]<nint, nint>)t[OrtApiSlots.EnableCpuMemArena];
        DisableCpuMemArena = (delegate* unmanaged[Cdecl]<nint, nint>)t[OrtApiSlots.DisableCpuMemArena];
        SetSessionLogSeverityLevel = (delegate* unmanaged[Cdecl]<nint, int, nint>)t[OrtApiSlots.SetSessionLogSeverityLevel];
        SetSessionGraphOptimizationLevel = (delegate* unmanaged[Cdecl]<nint, int, nint>)t[OrtApiSlots.SetSessionGraphOptimizationLevel];
        SetIntraOpNumThreads = (delegate* unmanaged[Cdecl]<nint, int, nint>)t[OrtApiSlots.SetIntraOpNumThreads];
        SetInterOpNumThreads = (delegate* unmanaged[Cdecl]<nint, int, nint>)t[OrtApiSlots.SetInterOpNumThreads];
        SessionGetInputCount = (delegate* unmanaged[Cdecl]<nint, nuint*, nint>)t[OrtApiSlots.SessionGetInputCount];
        SessionGetOutputCount = (delegate* unmanaged[Cdecl]<nint, nuint*, nint>)t[OrtApiSlots.SessionGetOutputCount];
        SessionGetInputTypeInfo = (delegate* unmanaged[Cdecl]<nint, nuint, nint*, nint>)t[OrtApiSlots.SessionGetInputTypeInfo];
        SessionGetOutputTypeInfo = (delegate* unmanaged[Cdecl]<nint, nuint, nint*, nint>)t[OrtApiSlots.SessionGetOutputTypeInfo];
        SessionGetInputName = (delegate* unmanaged[Cdecl]<nint, nuint, nint, byte**, nint>)t[OrtApiSlots.SessionGetInputName];
        SessionGetOutputName = (delegate* unmanaged[Cdecl]<nint, nuint, nint, byte**, nint>)t[OrtApiSlots.SessionGetOutputName];
        CreateRunOptions = (delegate* unmanaged[Cdecl]<nint*, nint>)t[OrtApiSlots.CreateRunOptions];
        RunOptionsSetRunLogSeverityLevel = (delegate* unmanaged[Cdecl]<nint, int, nint>)t[OrtApiSlots.RunOptionsSetRunLogSeverityLevel];
        RunOptionsSetRunTag = (delegate* unmanaged[Cdecl]<nint, byte*, nint>)t[OrtApiSlots.RunOptionsSetRunTag];
        RunOptionsSetTerminate = (delegate* unmanaged[Cdecl]<nint, nint>)t[OrtApiSlots.RunOptionsSetTerminate];
        RunOptionsUnsetTerminate = (delegate* unmanaged[Cdecl]<nint, nint>)t[OrtApiSlots.RunOptionsUnsetTerminate];
        CreateTensorAsOrtValue = (delegate* unmanaged[Cdecl]<nint, long*, nuint, int, nint*, nint>)t[OrtApiSlots.CreateTensorAsOrtValue];
        CreateTensorWithDataAsOrtValue = (delegate* unmanaged[Cdecl]<nint, void*, nuint, long*, nuint, int, nint*, nint>)t[OrtApiSlots.CreateTensorWithDataAsOrtValue];
        GetTensorMutableData = (delegate* unmanaged[Cdecl]<nint, void**, nint>)t[OrtApiSlots.GetTensorMutableData];
        FillStringTensor = (delegate* unmanaged[Cdecl]<nint, byte**, nuint, nint>)t[OrtApiSlots.FillStringTensor];
        GetStringTensorDataLength = (delegate* unmanaged[Cdecl]<nint, nuint*, nint>)t[OrtApiSlots.GetStringTensorDataLength];
        GetStringTensorContent = (delegate* unmanaged[Cdecl]<nint, void*, nuint, nuint*, nuint, nint>)t[OrtApiSlots.GetStringTensorContent];
        CastTypeInfoToTensorInfo = (delegate* unmanaged[Cdecl]<nint, nint*, nint>)t[OrtApiSlots.CastTypeInfoToTensorInfo];
        GetOnnxTypeFromTypeInfo = (delegate* unmanaged[Cdecl]<nint, int*, nint>)t[OrtApiSlots.GetOnnxTypeFromTypeInfo];
        GetTensorElementType = (delegate* unmanaged[Cdecl]<nint, int*, nint>)t[OrtApiSlots.GetTensorElementType];
        GetDimensionsCount = (delegate* unmanaged[Cdecl]<nint, nuint*, nint>)t[OrtApiSlots.GetDimensionsCount];
        GetDimensions = (delegate* unmanaged[Cdecl]<nint, long*, nuint, nint>)t[OrtApiSlots.GetDimensions];
        GetSymbolicDimensions = (delegate* unmanaged[Cdecl]<nint, byte**, nuint, nint>)t[OrtApiSlots.GetSymbolicDimensions];
        GetTensorShapeElementCount = (delegate* unmanaged[Cdecl]<nint, nuint*, nint>)t[OrtApiSlots.GetTensorShapeElementCount];
        GetTensorTypeAndShape = (delegate* unmanaged[Cdecl]<nint, nint*, nint>)t[OrtApiSlots.GetTensorTypeAndShape];
        GetValueType = (delegate* unmanaged[Cdecl]<nint, int*, nint>)t[OrtApiSlots.GetValueType];
        CreateCpuMemoryInfo = (delegate* unmanaged[Cdecl]<int, int, nint*, nint>)t[OrtApiSlots.CreateCpuMemoryInfo];
        AllocatorFree = (delegate* unmanaged[Cdecl]<nint, void*, nint>)t[OrtApiSlots.AllocatorFree];
        GetAllocatorWithDefaultOptions = (delegate* unmanaged[Cdecl]<nint*, nint>)t[OrtApiSlots.GetAllocatorWithDefaultOptions];
        AddFreeDimensionOverride = (delegate* unmanaged[Cdecl]<nint, byte*, long, nint>)t[OrtApiSlots.AddFreeDimensionOverride];
        ReleaseEnv = (delegate* unmanaged[Cdecl]<nint, void>)t[OrtApiSlots.ReleaseEnv];
        ReleaseStatus = (delegate* unmanaged[Cdecl]<nint, void>)t[OrtApiSlots.ReleaseStatus];
        ReleaseMemoryInfo = (delegate* unmanaged[Cdecl]<nint, void>)t[OrtApiSlots.ReleaseMemoryInfo];
        ReleaseSession = (delegate* unmanaged[Cdecl]<nint, void>)t[OrtApiSlots.ReleaseSession];
        ReleaseValue = (delegate* unmanaged[Cdecl]<nint, void>)t[OrtApiSlots.ReleaseValue];
        ReleaseRunOptions = (delegate* unmanaged[Cdecl]<nint, void>)t[OrtApiSlots.ReleaseRunOptions];
        ReleaseTypeInfo = (delegate* unmanaged[Cdecl]<nint, void>)t[OrtApiSlots.ReleaseTypeInfo];
        ReleaseTensorTypeAndShapeInfo = (delegate* unmanaged[Cdecl]<nint, void>)t[OrtApiSlots.ReleaseTensorTypeAndShapeInfo];
        ReleaseSessionOptions = (delegate* unmanaged[Cdecl]<nint, void>)t[OrtApiSlots.ReleaseSessionOptions];
        SessionEndProfiling = (delegate* unmanaged[Cdecl]<nint, nint, byte**, nint>)t[OrtApiSlots.SessionEndProfiling];
        SessionGetModelMetadata = (delegate* unmanaged[Cdecl]<nint, nint*, nint>)t[OrtApiSlots.SessionGetModelMetadata];
        ModelMetadataGetProducerName = (delegate* unmanaged[Cdecl]<nint, nint, byte**, nint>)t[OrtApiSlots.ModelMetadataGetProducerName];
        ModelMetadataGetGraphName = (delegate* unmanaged[Cdecl]<nint, nint, byte**, nint>)t[OrtApiSlots.ModelMetadataGetGraphName];
        ModelMetadataGetDomain = (delegate* unmanaged[Cdecl]<nint, nint, byte**, nint>)t[OrtApiSlots.ModelMetadataGetDomain];
        ModelMetadataGetDescription = (delegate* unmanaged[Cdecl]<nint, nint, byte**, nint>)t[OrtApiSlots.ModelMetadataGetDescription];
        ModelMetadataGetVersion = (delegate* unmanaged[Cdecl]<nint, long*, nint>)t[OrtApiSlots.ModelMetadataGetVersion];
        ReleaseModelMetadata = (delegate* unmanaged[Cdecl]<nint, void>)t[OrtApiSlots.ReleaseModelMetadata];
        AddFreeDimensionOverrideByName = (delegate* unmanaged[Cdecl]<nint, byte*, long, nint>)t[OrtApiSlots.AddFreeDimensionOverrideByName];
        GetAvailableProviders = (delegate* unmanaged[Cdecl]<byte***, int*, nint>)t[OrtApiSlots.GetAvailableProviders];
        ReleaseAvailableProviders = (delegate* unmanaged[Cdecl]<byte**, int, nint>)t[OrtApiSlots.ReleaseAvailableProviders];
        AddSessionConfigEntry = (delegate* unmanaged[Cdecl]<nint, byte*, byte*, nint>)t[OrtApiSlots.AddSessionConfigEntry];
        RunWithBinding = (delegate* unmanaged[Cdecl]<nint, nint, nint, nint>)t[OrtApiSlots.RunWithBinding];
        CreateIoBinding = (delegate* unmanaged[Cdecl]<nint, nint*, nint>)t[OrtApiSlots.CreateIoBinding];
        ReleaseIoBinding = (delegate* unmanaged[Cdecl]<nint, void>)t[OrtApiSlots.ReleaseIoBinding];
        BindInput = (delegate* unmanaged[Cdecl]<nint, byte*, nint, nint>)t[OrtApiSlots.BindInput];
        BindOutput = (delegate* unmanaged[Cdecl]<nint, byte*, nint, nint>)t[OrtApiSlots.BindOutput];
        BindOutputToDevice = (delegate* unmanaged[Cdecl]<nint, byte*, nint, nint>)t[OrtApiSlots.BindOutputToDevice];
        GetBoundOutputNames = (delegate* unmanaged[Cdecl]<nint, nint, byte**, nuint**, nuint*, nint>)t[OrtApiSlots.GetBoundOutputNames];
        GetBoundOutputValues = (delegate* unmanaged[Cdecl]<nint, nint, nint**, nuint*, nint>)t[OrtApiSlots.GetBoundOutputValues];
        ClearBoundInputs = (delegate* unmanaged[Cdecl]<nint, void>)t[OrtApiSlots.ClearBoundInputs];
        ClearBoundOutputs = (delegate* unmanaged[Cdecl]<nint, void>)t[OrtApiSlots.ClearBoundOutputs];
        AddRunConfigEntry = (delegate* unmanaged[Cdecl]<nint, byte*, byte*, nint>)t[OrtApiSlots.AddRunConfigEntry];
        SessionOptionsAppendExecutionProvider_TensorRT_V2 = (delegate* unmanaged[Cdecl]<nint, nint, nint>)t[OrtApiSlots.SessionOptionsAppendExecutionProvider_TensorRT_V2];
        CreateTensorRTProviderOptions = (delegate* unmanaged[Cdecl]<nint*, nint>)t[OrtApiSlots.CreateTensorRTProviderOptions];
        UpdateTensorRTProviderOptions = (delegate* unmanaged[Cdecl]<nint, byte**, byte**, nuint, nint>)t[OrtApiSlots.UpdateTensorRTProviderOptions];
        ReleaseTensorRTProviderOptions = (delegate* unmanaged[Cdecl]<nint, void>)t[OrtApiSlots.ReleaseTensorRTProviderOptions];
        SessionOptionsAppendExecutionProvider_CUDA_V2 = (delegate* unmanaged[Cdecl]<nint, nint, nint>)t[OrtApiSlots.SessionOptionsAppendExecutionProvider_CUDA_V2];
        CreateCUDAProviderOptions = (delegate* unmanaged[Cdecl]<nint*, nint>)t[OrtApiSlots.CreateCUDAProviderOptions];
        UpdateCUDAProviderOptions = (delegate* unmanaged[Cdecl]<nint, byte**, byte**, nuint, nint>)t[OrtApiSlots.UpdateCUDAProviderOptions];
        ReleaseCUDAProviderOptions = (delegate* unmanaged[Cdecl]<nint, void>)t[OrtApiSlots.ReleaseCUDAProviderOptions];
        SessionOptionsAppendExecutionProvider = (delegate* unmanaged[Cdecl]<nint, byte*, byte**, byte**, nuint, nint>)t[OrtApiSlots.SessionOptionsAppendExecutionProvider];
        UpdateEnvWithCustomLogLevel = (delegate* unmanaged[Cdecl]<nint, int, nint>)t[OrtApiSlots.UpdateEnvWithCustomLogLevel];
    }

    /// <summary>
    /// Turns an <c>OrtStatus*</c> into an exception: null is success; anything else is read (code, message), released,
    /// and thrown as <see cref="OrtException"/>.
    /// </summary>
    public void Check(nint status)
    {
        if (status != 0) throw TakeError(status);
    }

    /// <summary>Reads and releases a non-null status.</summary>
    public OrtException TakeError(nint status)
    {
        var code = (OrtErrorCode)GetErrorCode(status);
        var message = Marshal.PtrToStringUTF8((nint)GetErrorMessage(status)) ?? "";
        ReleaseStatus(status);
        return new OrtException(code, message);
    }

    /// <summary>
    /// A cheap guard that the table is laid out as expected: a status made by <c>CreateStatus</c> must come back with
    /// its code and message through <c>GetErrorCode</c>/<c>GetErrorMessage</c>, then be released by <c>ReleaseStatus</c>.
    /// </summary>
    public bool ProbeStatusRoundTrip()
    {
        const string probe = "edgeopt-slot-probe";
        nint status;
        fixed (byte* msg = Utf8.NullTerminated(probe)) status = CreateStatus((int)OrtErrorCode.InvalidGraph, msg);
        if (status == 0) return false;
        var ok = GetErrorCode(status) == (int)OrtErrorCode.InvalidGraph
                 && Marshal.PtrToStringUTF8((nint)GetErrorMessage(status)) == probe;
        ReleaseStatus(status);
        return ok;
    }
}
