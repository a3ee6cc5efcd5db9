export default function Home() {
  return <p>checkout</p>;
}
