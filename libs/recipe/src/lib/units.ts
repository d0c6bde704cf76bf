/** J/(mol·K), CODATA 2018 exact value. */
export const GAS_CONSTANT = 8.314462618;

/** Molar volume of an ideal gas at 0 °C and 1.01325 bar (normal conditions), L/mol. */
export const NORMAL_MOLAR_VOLUME = 22.413969;

export const ZERO_CELSIUS = 273.15;

export function celsiusToKelvin(celsius: number): number {
  return celsius + ZERO_CELSIUS;
}

export function kelvinToCelsius(kelvin: number): number {
  return kelvin - ZERO_CELSIUS;
}

/** 1 bar in Pa. */
export const BAR = 1e5;
