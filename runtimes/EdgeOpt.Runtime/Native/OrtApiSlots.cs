namespace EdgeOpt.Runtime.Native;

/// <summary>
/// Positions of the functions this binding calls in ONNX Runtime's <c>OrtApi</c> struct
/// (include/onnxruntime/core/session/onnxruntime_c_api.h). The struct is a table of function pointers that only ever
/// grows at the end, so a position never changes once its API version has shipped. Each value is the zero-based
/// index of the pointer.
/// </summary>
/// <remarks>
/// Derived by counting the pointers of the header for ORT_API_VERSION 23 in order, and cross-checked against the
/// static_asserts of onnxruntime_c_api.cc (ReleaseCustomOpDomain 101, ReleaseModelMetadata 118,
/// AddFreeDimensionOverrideByName 124, ReleaseAvailableProviders 126, SetGlobalSpinControl 149, ReleaseArenaCfg 157,
/// GetCurrentGpuDeviceId 161, CreateSessionFromArrayWithPrepackedWeightsContainer 169) and the field order of the
/// official C# binding's <c>OrtApi</c> struct. Versions that introduced the later positions: 124 (3), 125-126 (4),
/// 130-142 (5), 165 (8), 170-174 (9), 204-208 (11), 216 (12), 226 (14); every one is below
/// <see cref="OrtLibrary.MinimumApiVersion"/>.
/// </remarks>
internal static class OrtApiSlots
{
    public const int CreateStatus = 0;
    public const int GetErrorCode = 1;
    public const int GetErrorMessage = 2;
    public const int CreateEnv = 3;
    public const int CreateSession = 7;
    public const int CreateSessionFromArray = 8;
    public const int Run = 9;
    public const int CreateSessionOptions = 10;
    public const int SetOptimizedModelFilePath = 11;
    public const int SetSessionExecutionMode = 13;
    public const int EnableProfiling = 14;
    public const int DisableProfiling = 15;
    public const int EnableCpuMemArena = 18;
    public const int DisableCpuMemArena = 19;
    public const int SetSessionLogSeverityLevel = 22;
    public const int SetSessionGraphOptimizationLevel = 23;
    public const int SetIntraOpNumThreads = 24;
    public const int SetInterOpNumThreads = 25;
    public const int SessionGetInputCount = 30;
    public const int SessionGetOutputCount = 31;
    public const int SessionGetInputTypeInfo = 33;
    public const int SessionGetOutputTypeInfo = 34;
    public const int SessionGetInputName = 36;
    public const int SessionGetOutputName = 37;
    public const int CreateRunOptions = 39;
    public const int RunOptionsSetRunLogSeverityLevel = 41;
    public const int RunOptionsSetRunTag = 42;
    public const int RunOptionsSetTerminate = 46;
    public const int RunOptionsUnsetTerminate = 47;
    public const int CreateTensorAsOrtValue = 48;
    public const int CreateTensorWithDataAsOrtValue = 49;
    public const int GetTensorMutableData = 51;
    public const int FillStringTensor = 52;
    public const int GetStringTensorDataLength = 53;
    public const int GetStringTensorContent = 54;
    public const int CastTypeInfoToTensorInfo = 55;
    public const int GetOnnxTypeFromTypeInfo = 56;
    public const int GetTensorElementType = 60;
    public const int GetDimensionsCount = 61;
    public const int GetDimensions = 62;
    public const int GetSymbolicDimensions = 63;
    public const int GetTensorShapeElementCount = 64;
    public const int GetTensorTypeAndShape = 65;
    public const int GetValueType = 67;
    public const int CreateCpuMemoryInfo = 69;
    public const int AllocatorFree = 76;
    public const int GetAllocatorWithDefaultOptions = 78;
    public const int AddFreeDimensionOverride = 79;
    public const int ReleaseEnv = 92;
    public const int ReleaseStatus = 93;
    public const int ReleaseMemoryInfo = 94;
    public const int ReleaseSession = 95;
    public const int ReleaseValue = 96;
    public const int ReleaseRunOptions = 97;
    public const int ReleaseTypeInfo = 98;
    public const int ReleaseTensorTypeAndShapeInfo = 99;
    public const int ReleaseSessionOptions = 100;
    public const int SessionEndProfiling = 110;
    public const int SessionGetModelMetadata = 111;
    public const int ModelMetadataGetProducerName = 112;
    public const int ModelMetadataGetGraphName = 113;
    public const int ModelMetadataGetDomain = 114;
    public const int ModelMetadataGetDescription = 115;
    public const int ModelMetadataGetVersion = 117;
    public const int ReleaseModelMetadata = 118;
    public const int AddFreeDimensionOverrideByName = 124;
    public const int GetAvailableProviders = 125;
    public const int ReleaseAvailableProviders = 126;
    public const int AddSessionConfigEntry = 130;
    public const int RunWithBinding = 133;
    public const int CreateIoBinding = 134;
    public const int ReleaseIoBinding = 135;
    public const int BindInput = 136;
    public const int BindOutput = 137;
    public const int BindOutputToDevice = 138;
    public const int GetBoundOutputNames = 139;
    public const int GetBoundOutputValues = 140;
    public const int ClearBoundInputs = 141;
    public const int ClearBoundOutputs = 142;
    public const int AddRunConfigEntry = 165;
    public const int SessionOptionsAppendExecutionProvider_TensorRT_V2 = 170;
    public const int CreateTensorRTProviderOptions = 171;
    public const int UpdateTensorRTProviderOptions = 172;
    public const int ReleaseTensorRTProviderOptions = 174;
    public const int SessionOptionsAppendExecutionProvider_CUDA_V2 = 204;
    public const int CreateCUDAProviderOptions = 205;
    public const int UpdateCUDAProviderOptions = 206;
    public const int ReleaseCUDAProviderOptions = 208;
    public const int SessionOptionsAppendExecutionProvider = 216;
    public const int UpdateEnvWithCustomLogLevel = 226;
}
