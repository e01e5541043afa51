// The phone camera as a scanner. Loaded by scanner.js only when the camera is opened, so the decoder (the
// barcode-detector ponyfill on zxing-wasm, ~1 MB, served from static/vendor, never from a CDN) loads only then.
// The ponyfill, not the polyfill: every phone reads the same formats with the same engine.
import { BarcodeDetector, prepareZXingModule } from "../vendor/barcode-detector-3.2.2/es/ponyfill.js";

const WASM_DIR = new URL("../vendor/zxing-wasm-3.1.3/", import.meta.url).href;
const FORMATS = ["qr_code", "code_128", "data_matrix"]; // only what our tags carry: several times faster a frame
const FRAME_MS = 100; // about 10 reads a second: quick enough, and spares the battery
const ALTERNATIVES = "Use a hand scanner, take a photo, or type the code.";

const decoderReady = prepareZXingModule({
  overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? WASM_DIR + path : prefix + path) },
  fireImmediately: true, // compile the wasm while the camera starts
});

/** Start the back camera in `video` and read codes until stop(). Throws an Error whose message says what to do. */
export async function openCamera(video, { onCode, onReady }) {
  if (!window.isSecureContext) {
    throw new Error(`The camera needs a secure connection: open the app's https:// address. ${ALTERNATIVES}`);
  }
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new Error(`This browser cannot use a camera. ${ALTERNATIVES}`);
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: false,
      video: { facingMode: { ideal: "environment" }, width: { ideal: 1920 }, height: { ideal: 1080 } },
    });
  } catch (error) {
    throw new Error(cameraProblem(error));
  }
  const stopTracks = () => stream.getTracks().forEach((track) => track.stop());
  try {
    await decoderReady;
    video.srcObject = stream;
    await video.play();
  } catch {
    stopTracks();
    throw new Error(`The scanner could not start. Reload the page. ${ALTERNATIVES}`);
  }

  const detector = new BarcodeDetector({ formats: FORMATS });
  const track = stream.getVideoTracks()[0];
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  let frame = 0;
  let timer = null;
  let stopped = false;

  // Every other frame: the middle of the picture enlarged 2x. Small or dim tags that the full frame misses are
  // often read this way (a digital zoom), which also helps phones that cannot focus close up.
  function zoomedCentre() {
    const w = video.videoWidth / 2;
    const h = video.videoHeight / 2;
    canvas.width = w * 2;
    canvas.height = h * 2;
    context.imageSmoothingQuality = "high";
    context.drawImage(video, w / 2, h / 2, w, h, 0, 0, w * 2, h * 2);
    return canvas;
  }

  async function tick() {
    if (stopped) return;
    if (!video.isConnected) return stop(); // the page swapped the scanner away
    if (video.readyState >= 2 && video.videoWidth) {
      frame += 1;
      try {
        const codes = await detector.detect(frame % 2 === 0 ? zoomedCentre() : video);
        if (!stopped && codes.length) onCode(codes[0].rawValue, codes[0].format);
      } catch {
        // A frame the decoder could not take; the next one will do.
      }
    }
    if (!stopped) timer = setTimeout(tick, FRAME_MS);
  }

  function stop() {
    stopped = true;
    clearTimeout(timer);
    stopTracks();
    video.srcObject = null;
  }

  async function torch(on) {
    try {
      await track.applyConstraints({ advanced: [{ torch: on }] });
      return true;
    } catch {
      return false;
    }
  }

  onReady(Boolean(track.getCapabilities?.().torch));
  tick();
  return { stop, torch };
}

function cameraProblem(error) {
  switch (error?.name) {
    case "NotAllowedError":
    case "SecurityError":
      return `Camera access was refused. Allow the camera for this site in the browser's settings. ${ALTERNATIVES}`;
    case "NotFoundError":
    case "OverconstrainedError":
      return `No camera was found on this device. ${ALTERNATIVES}`;
    case "NotReadableError":
      return "The camera is busy in another app. Close that app and tap Camera again.";
    default:
      return `The camera could not start. ${ALTERNATIVES}`;
  }
}
